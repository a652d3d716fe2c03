package score

import (
	"math"
	"math/rand/v2"

	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultExplore is the default share of partner choices spent on
// exploration. Why 0.1: newcomers start at Polo 0 and can only earn a score
// by being given work; one choice in ten is enough for them to get a first
// task soon in a busy network, while nine in ten still go to peers with
// standing, which keeps the share of work given to bad peers low (the
// EigenTrust argument for probabilistic choice).
const DefaultExplore = 0.1

// Choose picks a partner among candidates. With probability explore it
// explores: uniformly among the candidates with Polo 0 (newcomers) if there
// are any, else uniformly among all. Otherwise it picks with probability
// proportional to Polo, uniformly if every Polo is 0; so a newcomer is only
// ever chosen by exploration. explore is clamped to [0, 1] (NaN counts as
// 0), Polo to [0, 1000], and a nil polo function means all 0. Choose draws
// one float and then one integer from rng, so it is deterministic for a
// given rng; a nil rng uses the global source. It returns "" when there are
// no candidates. polo is called once per candidate, on the caller's
// goroutine.
func Choose(rng *rand.Rand, candidates []peer.ID, polo func(peer.ID) int, explore float64) peer.ID {
	if len(candidates) == 0 {
		return ""
	}
	weights := make([]int64, len(candidates))
	var total int64
	newcomers := 0
	for i, c := range candidates {
		if polo != nil {
			weights[i] = int64(min(1000, max(0, polo(c))))
		}
		total += weights[i]
		if weights[i] == 0 {
			newcomers++
		}
	}
	if math.IsNaN(explore) {
		explore = 0
	}
	exploring := float64Of(rng) < min(1, max(0, explore))
	switch {
	case exploring && newcomers > 0:
		return nthZero(candidates, weights, int(int64NOf(rng, int64(newcomers))))
	case exploring || total == 0:
		return candidates[int64NOf(rng, int64(len(candidates)))]
	}
	x := int64NOf(rng, total)
	for i, w := range weights {
		if x < w {
			return candidates[i]
		}
		x -= w
	}
	return candidates[len(candidates)-1] // unreachable: x < total
}

// nthZero returns the candidate with the n-th zero weight.
func nthZero(candidates []peer.ID, weights []int64, n int) peer.ID {
	for i, w := range weights {
		if w == 0 {
			if n == 0 {
				return candidates[i]
			}
			n--
		}
	}
	return ""
}

// float64Of draws from rng, or the global source if rng is nil.
func float64Of(rng *rand.Rand) float64 {
	if rng == nil {
		return rand.Float64()
	}
	return rng.Float64()
}

// int64NOf draws from [0, n) with rng, or the global source if rng is nil.
func int64NOf(rng *rand.Rand, n int64) int64 {
	if rng == nil {
		return rand.Int64N(n)
	}
	return rng.Int64N(n)
}

// GossipScore maps Polo to gossipsub's application-specific peer score:
// polo/1000, clamped to [0, 1]. It is never negative, so a newcomer (Polo
// 0) is neutral rather than penalised toward gossipsub's graylist, and
// standing can only add to the router's own score; how much it adds is set
// by the caller's AppSpecificWeight in the gossipsub score parameters.
func GossipScore(polo int) float64 {
	return float64(min(1000, max(0, polo))) / 1000
}
