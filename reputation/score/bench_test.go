package score

import (
	"math/rand/v2"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
)

// BenchmarkCompute1000 recomputes the scores of 1,000 peers from ≈20,000
// evidence items (each peer vouching once for 20 random others).
func BenchmarkCompute1000(b *testing.B) {
	e, evs := randomGraphN(1, 1000, 20, 1)
	var r Result
	for b.Loop() {
		r = e.Compute(now)
	}
	b.ReportMetric(float64(len(evs)), "evidence")
	b.ReportMetric(float64(r.Iterations), "iterations")
}

// BenchmarkAdd measures recording one piece of evidence into a populated
// engine.
func BenchmarkAdd(b *testing.B) {
	e, evs := randomGraphN(1, 1000, 20, 1)
	i := 0
	for b.Loop() {
		e.Add(evs[i%len(evs)])
		i++
	}
}

// BenchmarkScore measures reading one cached score.
func BenchmarkScore(b *testing.B) {
	e, _ := randomGraphN(1, 1000, 20, 1)
	e.Compute(now)
	ids := make([]peer.ID, 1000)
	for i := range ids {
		ids[i] = id("p%d", i)
	}
	i := 0
	for b.Loop() {
		_ = e.Score(ids[i%len(ids)])
		i++
	}
}

// BenchmarkChoose measures one partner choice among 50 candidates.
func BenchmarkChoose(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	cands := make([]peer.ID, 50)
	polo := make(map[peer.ID]int, 50)
	for i := range cands {
		cands[i] = id("c%d", i)
		polo[cands[i]] = rng.IntN(1001)
	}
	for b.Loop() {
		_ = Choose(rng, cands, poloTable(polo), DefaultExplore)
	}
}
