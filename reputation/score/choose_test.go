package score

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/assert"
)

// poloTable returns a polo function reading m.
func poloTable(m map[peer.ID]int) func(peer.ID) int {
	return func(p peer.ID) int { return m[p] }
}

func TestChooseFrequencies(t *testing.T) {
	const draws = 100_000
	polo := map[peer.ID]int{"A": 100, "B": 300, "C": 600, "N1": 0, "N2": 0}
	cands := []peer.ID{"A", "B", "C", "N1", "N2"}
	tests := []struct {
		name    string
		explore float64
		want    map[peer.ID]float64
	}{
		// Exploration goes to the newcomers only, exploitation by weight.
		{"default explore", DefaultExplore, map[peer.ID]float64{
			"A": 0.9 * 0.1, "B": 0.9 * 0.3, "C": 0.9 * 0.6, "N1": 0.05, "N2": 0.05}},
		{"no exploration", 0, map[peer.ID]float64{"A": 0.1, "B": 0.3, "C": 0.6}},
		{"all exploration", 1, map[peer.ID]float64{"N1": 0.5, "N2": 0.5}},
		{"clamped above 1", 7, map[peer.ID]float64{"N1": 0.5, "N2": 0.5}},
		{"NaN is no exploration", math.NaN(), map[peer.ID]float64{"A": 0.1, "B": 0.3, "C": 0.6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			got := map[peer.ID]int{}
			for range draws {
				got[Choose(rng, cands, poloTable(polo), tc.explore)]++
			}
			for _, c := range cands {
				f := float64(got[c]) / draws
				assert.InDelta(t, tc.want[c], f, 0.01, "%s: %.4f", c, f)
				if tc.want[c] == 0 {
					assert.Zero(t, got[c], "%s is never chosen", c)
				}
			}
		})
	}
}

func TestChooseExplorationShare(t *testing.T) {
	// Without newcomers exploration is uniform over everyone; the share of
	// exploring draws shows as the excess of the lightest candidate.
	const draws, explore = 100_000, 0.2
	polo := map[peer.ID]int{"A": 1, "B": 999}
	rng := rand.New(rand.NewPCG(3, 4))
	a := 0
	for range draws {
		if Choose(rng, []peer.ID{"A", "B"}, poloTable(polo), explore) == "A" {
			a++
		}
	}
	want := explore*0.5 + (1-explore)*0.001
	assert.InDelta(t, want, float64(a)/draws, 0.005)

	// With newcomers, the share they get is the exploration share.
	polo = map[peer.ID]int{"A": 500, "B": 500}
	cands := []peer.ID{"A", "B", "new1", "new2", "new3"}
	rng = rand.New(rand.NewPCG(5, 6))
	newcomers := 0
	for range draws {
		if polo[Choose(rng, cands, poloTable(polo), explore)] == 0 {
			newcomers++
		}
	}
	assert.InDelta(t, explore, float64(newcomers)/draws, 0.005)
}

func TestChooseEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	assert.Equal(t, peer.ID(""), Choose(rng, nil, nil, 0.1))
	assert.Equal(t, peer.ID("A"), Choose(rng, []peer.ID{"A"}, nil, 0.5))
	assert.Equal(t, peer.ID("A"), Choose(nil, []peer.ID{"A"}, nil, 0.5), "nil rng uses the global source")

	// All zero: uniform. Negative counts as zero.
	got := map[peer.ID]int{}
	neg := func(peer.ID) int { return -5 }
	for range 30_000 {
		got[Choose(rng, []peer.ID{"A", "B", "C"}, neg, 0)]++
	}
	for _, c := range []peer.ID{"A", "B", "C"} {
		assert.InDelta(t, 1.0/3, float64(got[c])/30_000, 0.02, c)
	}
}

func TestChooseDeterministic(t *testing.T) {
	polo := map[peer.ID]int{"A": 10, "B": 20, "C": 0}
	cands := []peer.ID{"A", "B", "C"}
	r1, r2 := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
	for range 1000 {
		assert.Equal(t, Choose(r1, cands, poloTable(polo), 0.3), Choose(r2, cands, poloTable(polo), 0.3))
	}
}

func TestGossipScore(t *testing.T) {
	tests := []struct {
		polo int
		want float64
	}{{0, 0}, {393, 0.393}, {1000, 1}, {-3, 0}, {5000, 1}}
	for _, tc := range tests {
		assert.InDelta(t, tc.want, GossipScore(tc.polo), 1e-12, "polo %d", tc.polo)
	}
}
