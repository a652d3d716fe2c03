package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// scaleSizes are the mesh sizes of the scaling benchmarks. A thousand
// nodes take minutes to start on two cores; pick sizes with -bench, e.g.
// -bench 'ResolveScale/nodes=100$'.
var scaleSizes = []int{10, 100, 1000}

// BenchmarkResolveScale measures a DHT resolution between random nodes of
// a loopback mesh of 10, 100 and 1,000 nodes, reporting the median and
// 90th percentile and the median as a multiple of a bare libp2p ping
// round trip between two nodes of the same mesh, measured in the same run.
//
//	go test -run XXX -bench ResolveScale -benchtime 200x ./node/
func BenchmarkResolveScale(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			nodes := startScaledMesh(b, n)
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(uint64(n), 7))
			pick := func() (*Node, *Node) {
				i, j := rng.IntN(n), rng.IntN(n-1)
				if j >= i {
					j++
				}
				return nodes[i], nodes[j]
			}
			// Every record must be in place before the clock starts.
			for _, to := range nodes {
				from := nodes[(slices.Index(nodes, to)+1)%n]
				eventually(b, 2*time.Minute, func() error { _, err := from.Resolve(ctx, to.Addr()); return err })
			}
			rtt := baselinePingRTT(b, nodes)
			var took []time.Duration
			b.ResetTimer()
			for b.Loop() {
				from, to := pick()
				start := time.Now()
				if _, err := from.Resolve(ctx, to.Addr()); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			med, p90 := took[len(took)/2], took[len(took)*9/10]
			b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(p90.Microseconds())/1000, "ms-p90")
			b.ReportMetric(float64(med)/float64(rtt), "x-ping")
			b.ReportMetric(meanConns(nodes), "conns/node")
		})
	}
}

// BenchmarkPoloFanoutScale is BenchmarkPoloFanout100 at 10, 100 and 1,000
// nodes (on the scaled mesh: DHT servers and clients): one node stores and
// publishes an attestation; the clock stops when 99 % of the nodes hold it.
//
//	go test -run XXX -bench PoloFanoutScale -benchtime 10x ./node/
func BenchmarkPoloFanoutScale(b *testing.B) {
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			nodes := startScaledMesh(b, n)
			benchFanout(b, nodes, 2*time.Minute)
			b.ReportMetric(meanConns(nodes), "conns/node")
		})
	}
}

// startScaledMesh starts n nodes on loopback QUIC the way a network of
// many agents looks: the first min(max(2, n/10), 20) are DHT servers with
// the anchor preset's connection limits, the others DHT clients, as agents
// behind NATs are; each joins through up to three random servers started
// before it, ten at a time. QUIC, because a node holds one UDP socket
// whatever its connections, where every loopback TCP connection costs two
// file descriptors of this one process.
func startScaledMesh(tb testing.TB, n int) []*Node {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	servers := min(max(2, n/10), 20, n)
	anchor := AnchorConfig("")
	return startBatched(tb, n, true, func(idx int, running []*Node) Config {
		cfg := TestnetConfig()
		cfg.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"}
		if idx < servers {
			cfg.ConnLow, cfg.ConnHigh = anchor.ConnLow, max(anchor.ConnHigh, n+64)
			cfg.ResourceMemory = max(anchor.ResourceMemory, int64(cfg.ConnHigh/64+2)<<30)
			cfg.ResourceFDs = anchor.ResourceFDs
		} else {
			cfg.DHTMode = "client"
			cfg.ResourceMemory = 1 << 30
		}
		up := min(len(running), servers)
		for _, j := range rng.Perm(up)[:min(3, up)] {
			cfg.Bootstrap = append(cfg.Bootstrap, running[j].JoinAddrs()...)
		}
		return cfg
	})
}

// waitTopicPeers waits, at most max, for n's Polo topic to have want
// peers (gossipsub has no event for it).
func waitTopicPeers(n *Node, want int, max time.Duration) {
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	deadline := time.After(max)
	for len(n.polo.topic.Peers()) < want {
		select {
		case <-poll.C:
		case <-deadline:
			return
		}
	}
}

// meanConns is the mean number of connections per node.
func meanConns(nodes []*Node) float64 {
	total := 0
	for _, n := range nodes {
		total += len(n.Host().Network().Conns())
	}
	return float64(total) / float64(len(nodes))
}
