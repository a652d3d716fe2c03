package score

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// BenchmarkCompute10kOver1000 recomputes the scores of 1,000 peers from
// 10,000 evidence items between random pairs (90% successes, dated within
// the last 30 days), anchored on p0 and three trusted peers.
func BenchmarkCompute10kOver1000(b *testing.B) {
	const peers, items = 1000, 10_000
	rng := rand.New(rand.NewPCG(10_000, 1_000))
	e := New(Params{})
	e.SetAnchors(id("p0"), []peer.ID{id("p1"), id("p2"), id("p3")})
	for range items {
		i, j := rng.IntN(peers), rng.IntN(peers-1)
		if j >= i {
			j++
		}
		e.Add(Evidence{
			Issuer:   id("p%d", i),
			Subject:  id("p%d", j),
			Success:  rng.Float64() < 0.9,
			Cost:     uint64(rng.IntN(1000)),
			IssuedAt: now.Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))),
		})
	}
	var r Result
	for b.Loop() {
		r = e.Compute(now)
	}
	b.ReportMetric(items, "evidence")
	b.ReportMetric(float64(r.Pairs), "pairs")
	b.ReportMetric(float64(r.Peers), "peers")
	b.ReportMetric(float64(r.Iterations), "iterations")
}
