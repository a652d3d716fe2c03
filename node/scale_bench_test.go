package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"
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
			targets := recordsInPlace(b, nodes, recordWait)
			if len(targets) < 2 {
				b.Fatalf("only %d of %d records resolvable after %s", len(targets), n, recordWait)
			}
			pick := func() (*Node, *Node) {
				to := targets[rng.IntN(len(targets))]
				for {
					if from := nodes[rng.IntN(n)]; from != to {
						return from, to
					}
				}
			}
			rtt := baselinePingRTT(b, nodes)
			// A failed resolution is a figure too: counted, not fatal.
			var took []time.Duration
			failed := 0
			b.ResetTimer()
			for b.Loop() {
				from, to := pick()
				start := time.Now()
				if _, err := from.Resolve(ctx, to.Addr()); err != nil {
					failed++
					b.Logf("resolve %s from %s: %v", to.Addr(), from.Addr(), err)
					continue
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			if len(took) == 0 {
				b.Fatalf("all %d resolutions failed", failed)
			}
			b.ReportMetric(float64(failed), "failed")
			slices.Sort(took)
			med, p90 := took[len(took)/2], took[len(took)*9/10]
			b.ReportMetric(float64(med.Microseconds())/1000, "ms-median")
			b.ReportMetric(float64(p90.Microseconds())/1000, "ms-p90")
			b.ReportMetric(float64(med)/float64(rtt), "x-ping")
			b.ReportMetric(meanConns(nodes), "conns/node")
			b.ReportMetric(float64(n-len(targets)), "unresolvable")
		})
	}
}

// recordWait bounds the wait for every node's record to be in place.
const recordWait = 5 * time.Minute

// recordsInPlace waits, at most max, until every node has published its
// address record and another node resolves it, and returns the nodes
// whose record is in place. One whose record is not in place by then is
// left out of the benchmark's targets and counted (the "unresolvable"
// metric): on two cores a thousand nodes' publications can still be
// retrying, and the figure says so rather than hiding it or failing.
func recordsInPlace(tb testing.TB, nodes []*Node, max time.Duration) []*Node {
	tb.Helper()
	ctx := context.Background()
	start, deadline := time.Now(), time.Now().Add(max)
	pending := slices.Clone(nodes)
	var ready []*Node
	// Each pass asks from another node: a prober that cannot look
	// anything up (an empty routing table) must not hold a record back.
	for pass := 1; len(pending) > 0 && time.Now().Before(deadline); pass++ {
		var still []*Node
		for _, to := range pending {
			from := nodes[(slices.Index(nodes, to)+pass)%len(nodes)]
			if from == to {
				from = nodes[(slices.Index(nodes, to)+1)%len(nodes)]
			}
			if _, seq, err := to.DHT().LastPublish(); err != nil || seq == 0 {
				still = append(still, to)
				continue
			}
			if _, err := from.Resolve(ctx, to.Addr()); err != nil {
				still = append(still, to)
				continue
			}
			ready = append(ready, to)
		}
		pending = still
		if len(pending) > 0 {
			t := time.NewTimer(time.Second)
			<-t.C
		}
	}
	tb.Logf("%d of %d records in place after %s", len(ready), len(nodes), time.Since(start).Round(time.Second))
	kad := protocol.ID("/pilot/kad/1.0.0") // the default ProtocolPrefix
	for _, nd := range pending {
		at, seq, err := nd.DHT().LastPublish()
		tb.Logf("not in place: %s (DHT %s, routing table %d, %d connections; last publication at %s, seq %d, err %v)",
			nd.Addr(), nd.DHT().Mode(), nd.DHT().RoutingTableSize(), len(nd.Host().Network().Conns()), at.Format(time.TimeOnly), seq, err)
		if nd.DHT().RoutingTableSize() > 0 {
			continue
		}
		ps := nd.Host().Peerstore()
		for _, p := range nd.Host().Network().Peers() {
			protos, _ := ps.GetProtocols(p)
			dht, _ := ps.SupportsProtocols(p, kad)
			tb.Logf("  peer %s: %s, %d protocols known, speaks %s: %v, latency EWMA %s",
				p, nd.Host().Network().Connectedness(p), len(protos), kad, len(dht) > 0, ps.LatencyEWMA(p).Round(time.Millisecond))
		}
	}
	return ready
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
