package score

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConvergenceRandomGraph uses the benchmark's graph: 1,000 peers, each
// vouching once for 20 random others (≈20,000 evidence items). The error
// shrinks by ≈0.3 per iteration there; sparser graphs mix more slowly
// (≈23 iterations at 10 subjects per issuer, ≈34 at 5), denser faster.
func TestConvergenceRandomGraph(t *testing.T) {
	for seed := range uint64(3) {
		e, evs := randomGraphN(seed, 1000, 20, 1)
		r := e.Compute(now)
		require.True(t, r.Converged)
		assert.Less(t, r.Iterations, 20)
		assert.Equal(t, 1000, r.Peers)
		assert.InDelta(t, 1, sumTrust(r.Trust), 1e-6)
		t.Logf("seed %d: %d evidence, %d pairs, %d iterations, residual %.2g",
			seed, len(evs), r.Pairs, r.Iterations, r.Residual)
	}
}

func TestPoloOf(t *testing.T) {
	tests := []struct {
		name  string
		t     float64
		n     int
		kappa float64
		want  int
	}{
		{"no trust", 0, 100, 2, 0},
		{"negative", -0.1, 100, 2, 0},
		{"NaN", math.NaN(), 100, 2, 0},
		{"average participant", 0.01, 100, 2, 393},
		{"twice average", 0.02, 100, 2, 632},
		{"five times average", 0.05, 100, 2, 918},
		{"tenth of average", 0.001, 100, 2, 49},
		{"everything", 1, 100, 2, 1000},
		{"empty graph", 0.5, 0, 2, 0},
		{"kappa 1", 0.01, 100, 1, 632},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, PoloOf(tc.t, tc.n, tc.kappa))
		})
	}
}

func TestPretrust(t *testing.T) {
	// One success from each anchor's neighbour to nobody: the graph only
	// holds the anchors, so t = p.
	tests := []struct {
		name    string
		self    peer.ID
		trusted []peer.ID
		want    map[peer.ID]float64
	}{
		{"self only", "S", nil, map[peer.ID]float64{"S": 1}},
		{"self and two", "S", []peer.ID{"T1", "T2"}, map[peer.ID]float64{"S": 0.5, "T1": 0.25, "T2": 0.25}},
		{"duplicates and self ignored", "S", []peer.ID{"T1", "S", "T1", ""}, map[peer.ID]float64{"S": 0.5, "T1": 0.5}},
		{"no self", "", []peer.ID{"T1", "T2"}, map[peer.ID]float64{"T1": 0.5, "T2": 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Params{})
			e.SetAnchors(tc.self, tc.trusted)
			r := e.Compute(now)
			require.Len(t, r.Trust, len(tc.want))
			for p, w := range tc.want {
				assert.InDelta(t, w, r.Trust[p], 1e-12, p)
			}
		})
	}
}

func TestUniformPretrustWithoutAnchors(t *testing.T) {
	e := New(Params{})
	attest(e, "A", "B", 1, true, now)
	attest(e, "B", "A", 1, true, now)
	r := e.Compute(now)
	assert.InDelta(t, 0.5, r.Trust["A"], 1e-12)
	assert.InDelta(t, 0.5, r.Trust["B"], 1e-12)
	assert.Contains(t, e.Score("A").Derivation, "anchored on no one")
}

func TestDerivation(t *testing.T) {
	e := New(Params{})
	e.SetAnchors("S", []peer.ID{"T1", "T2"})
	for k := range 4 {
		attest(e, "S", id("I%d", k), 1, true, now)
		attest(e, id("I%d", k), "X", 2, true, now)
	}
	attest(e, "I0", "X", 1, true, now)
	attest(e, "I1", "X", 1, true, now)
	attest(e, "I2", "X", 2, false, now)
	e.Compute(now)
	d := e.Score("X")
	assert.Equal(t, 12, d.Attestations)
	assert.Equal(t, 10, d.Successes)
	assert.Equal(t, 2, d.Failures)
	assert.Equal(t, 4, d.Issuers)
	assert.Equal(t, now, d.LastSeen)
	assert.Equal(t, now, d.ComputedAt)
	assert.Regexp(t, `^12 attestations from 4 issuers \(10 successes, 2 failures\), decayed with half-life 14d, `+
		`saturating at 5 per issuer; global trust 0\.\d+ \(polo \d+\) after \d+ iterations anchored on you and 2 trusted peers$`,
		d.Derivation)
	assert.Contains(t, e.Score("S").Derivation, "this is you")
	assert.Contains(t, e.Score("T1").Derivation, "you trust this peer")
	t.Log(d.Derivation)
}

func TestScoreBeforeCompute(t *testing.T) {
	e := New(Params{})
	attest(e, "A", "B", 1, true, now)
	d := e.Score("B")
	assert.Equal(t, Detail{Derivation: "not computed yet"}, d)
}

func TestResultMapsBelongToCaller(t *testing.T) {
	e, _ := randomGraph(3, 50, 4)
	r := e.Compute(now)
	before := e.Score("p5")
	r.Trust["p5"], r.Polo["p5"] = 42, 42
	assert.Equal(t, before, e.Score("p5"))
}

// TestProperties checks invariants on many random graphs: t is a
// probability vector, Polo is PoloOf(t) in [0, 1000], local trust never
// exceeds the saturation, peers the anchors cannot reach get 0, and the
// result does not depend on the order evidence arrived in.
func TestProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 0))
	for trial := range 60 {
		n := 2 + rng.IntN(60)
		e, evs := randomGraph(uint64(trial), n, 1+rng.IntN(6))
		e.params.MaxIter = 2000 // properties at the fixed point
		unreached := id("island%d", trial)
		attest(e, unreached, id("island-b%d", trial), 3, true, now)
		r := e.Compute(now)
		require.True(t, r.Converged, "trial %d", trial)
		assert.InDelta(t, 1, sumTrust(r.Trust), 1e-9, "trial %d", trial)
		for p, ti := range r.Trust {
			assert.GreaterOrEqual(t, ti, 0.0)
			assert.Equal(t, PoloOf(ti, r.Peers, DefaultKappa), r.Polo[p])
			assert.Equal(t, r.Polo[p], e.Score(p).Polo)
			assert.InDelta(t, ti, e.Score(p).Trust, 0)
		}
		assert.Zero(t, r.Trust[unreached])
		assert.Zero(t, r.Trust[id("island-b%d", trial)])
		for _, ev := range evs {
			assert.LessOrEqual(t, e.Pair(ev.Issuer, ev.Subject, now).Local, DefaultSaturation)
		}

		// Same evidence, shuffled: same trust up to rounding.
		again := New(Params{MaxIter: 2000})
		again.SetAnchors(e.self, e.trusted)
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		for _, ev := range evs {
			again.Add(ev)
		}
		attest(again, unreached, id("island-b%d", trial), 3, true, now)
		r2 := again.Compute(now)
		require.Len(t, r2.Trust, len(r.Trust))
		for p, ti := range r.Trust {
			assert.InDelta(t, ti, r2.Trust[p], 1e-8, "trial %d peer %s", trial, p)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := randomGraph(5, 300, 6)
	b, _ := randomGraph(5, 300, 6)
	assert.Equal(t, a.Compute(now), b.Compute(now))
	assert.Equal(t, a.Compute(now), a.Compute(now), "recomputing changes nothing")
}

// sumTrust adds up a trust vector.
func sumTrust(m map[peer.ID]float64) float64 {
	s := 0.0
	for _, v := range m {
		s += v
	}
	return s
}
