package reputation

import (
	"math/rand/v2"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/reputation/score"
)

// DefaultExplore is the share of partner choices Choose spends on
// newcomers (Polo 0), so a new agent gets its first tasks.
const DefaultExplore = score.DefaultExplore

// Choose picks a partner among candidates: with probability explore a
// newcomer (Polo 0) chosen uniformly, if there is one; otherwise a
// candidate with probability proportional to its Polo (uniformly when all
// score 0). polo is the caller's view of each candidate's score; rng makes
// the choice reproducible. It returns "" for no candidates. The rule and
// why it resists Sybils are in docs/polo.md.
func Choose(rng *rand.Rand, candidates []peer.ID, polo func(peer.ID) int, explore float64) peer.ID {
	return score.Choose(rng, candidates, polo, explore)
}
