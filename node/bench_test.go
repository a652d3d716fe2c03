package node

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// BenchmarkResolve20 measures one DHT resolution in a 20-node loopback
// mesh, and reports it as a ratio of a bare libp2p ping round trip between
// the same nodes, measured in the same run (the "x-ping" metric: how many
// round trips a resolution costs).
func BenchmarkResolve20(b *testing.B) {
	const n = 20
	nodes := startMesh(b, n)
	ctx := context.Background()
	// Warm up: every node must be resolvable before timing starts.
	for _, to := range nodes[1:] {
		eventually(b, 60*time.Second, func() error { _, err := nodes[0].Resolve(ctx, to.Addr()); return err })
	}
	rtt := baselinePingRTT(b, nodes)
	rng := rand.New(rand.NewPCG(1, 2))

	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		i, j := rng.IntN(n), rng.IntN(n-1)
		if j >= i {
			j++
		}
		if _, err := nodes[i].Resolve(ctx, nodes[j].Addr()); err != nil {
			b.Fatal(err)
		}
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(rtt.Microseconds()), "ping-µs")
	b.ReportMetric(float64(per)/float64(rtt), "x-ping")
}

// baselinePingRTT is the mean RTT of a bare libp2p ping stream between
// connected nodes of the mesh.
func baselinePingRTT(b *testing.B, nodes []*Node) time.Duration {
	b.Helper()
	ctx := context.Background()
	from, to := nodes[1], nodes[2]
	if _, err := from.Connect(ctx, to.Addr()); err != nil {
		b.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := ping.Ping(pctx, from.Host(), to.PeerID())
	var sum time.Duration
	const samples = 200
	for range samples {
		r := <-results
		if r.Error != nil {
			b.Fatal(r.Error)
		}
		sum += r.RTT
	}
	cancel()
	for range results {
	}
	return sum / samples
}
