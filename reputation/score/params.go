package score

import (
	"math"
	"time"
)

// Default values of [Params]. The doc comment of each field of Params says
// why the default is what it is.
const (
	// DefaultHalfLife is the default of Params.HalfLife.
	DefaultHalfLife = 14 * 24 * time.Hour
	// DefaultSaturation is the default of Params.Saturation.
	DefaultSaturation = 5.0
	// DefaultSelfWeight is the default of Params.SelfWeight.
	DefaultSelfWeight = 0.5
	// DefaultAlpha is the default of Params.Alpha.
	DefaultAlpha = 0.15
	// DefaultEpsilon is the default of Params.Epsilon.
	DefaultEpsilon = 1e-9
	// DefaultMaxIter is the default of Params.MaxIter.
	DefaultMaxIter = 200
	// DefaultKappa is the default of Params.Kappa.
	DefaultKappa = 2.0
)

// FailureWeight is how much more a failure weighs than a success in local
// trust: l_ij = max(0, g(s_ij) − FailureWeight·g(f_ij)).
//
// Why 2: cheating must cost more than it earns. While g is still nearly
// linear (a handful of tasks) a worker who fails one task in three earns
// nothing from that issuer, and every failure cancels two successes, so a
// worker cannot keep its standing by alternating good and bad work. It is
// not larger because honest workers fail too (crashes, timeouts) and one
// failure should dent, not erase, a good record.
const FailureWeight = 2.0

// Params tunes an [Engine]. The zero value of a field — and any value
// outside its valid range, which the field documents — means its default, so
// Params{} is the default configuration.
type Params struct {
	// HalfLife is the exponential time decay of each piece of evidence: an
	// attestation issued HalfLife before the computation weighs 1/2, two
	// half-lives before 1/4. Must be > 0. Default 14 days.
	//
	// Why 14 days: recent behaviour should dominate within weeks, so a peer
	// that turns bad loses most of its standing within a month (old evidence
	// is down to 1/4 after 28 days), while a peer that works a few times a
	// week keeps its standing through a quiet week or two. Much shorter would
	// make reputation volatile and cheap to rebuild after misbehaving; much
	// longer would let a good past cover present cheating.
	HalfLife time.Duration

	// Saturation bounds what one issuer can say about one subject. With
	// s_ij and f_ij the decayed sums of successes and failures from issuer i
	// about subject j, local trust is l_ij = max(0, g(s_ij) − 2·g(f_ij)),
	// where g(x) = Saturation·(1 − exp(−x/Saturation)). Must be > 0.
	// Default 5.
	//
	// Why 5: g(x) ≈ x for the first few tasks, so early evidence counts
	// almost fully, but g never exceeds 5 and is at 4.3 after 10 tasks and
	// 4.8 after 15: an issuer repeating tasks with the same worker (ballot
	// stuffing) cannot give it more than about five successes' worth, and a
	// worker's standing has to come from many distinct issuers, each of whom
	// must in turn be trusted. Smaller would ignore genuine long-running
	// relationships; larger would let one issuer dominate a subject.
	Saturation float64

	// SelfWeight is the share of the pre-trust vector p on the local node
	// itself; the peers it explicitly trusts share the rest equally, and if
	// it trusts none, all of p is on itself. Must be in (0, 1]. Default 0.5.
	//
	// Why 0.5: half of the anchor mass stays on your own first-hand
	// experience, so the peers you trust cannot capture your view, while the
	// other half lets their experience bootstrap yours when you have little.
	SelfWeight float64

	// Alpha is the damping: t = (1−α)·Cᵀt + α·p, the share of trust that
	// flows back to the anchors at every step. Must be in (0, 1].
	// Default 0.15.
	//
	// Why 0.15: the value of EigenTrust and PageRank. It bounds what
	// collusion can gain: a collective no anchor-reachable peer vouches for
	// gets exactly 0, and one that receives trust mass m through a single
	// careless issuer holds at most m·(1−α)/α ≈ 5.7·m. Larger concentrates
	// trust near the anchors (less transitive reach); smaller slows
	// convergence (the error shrinks at least by 1−α per iteration) and
	// raises what a collective can amplify.
	Alpha float64

	// Epsilon stops the power iteration once the L1 change of t in one
	// iteration is below it. Must be > 0. Default 1e-9.
	//
	// Why 1e-9: far below the resolution of the Polo scale. A change δ in
	// t_i moves Polo by at most 1000·N·δ/Kappa, which stays under half a
	// point for δ = 1e-9 up to a million peers, so converged scores are
	// stable to the unit.
	Epsilon float64

	// MaxIter caps the power iteration. Must be > 0. Default 200.
	//
	// Why 200: damping alone shrinks the error by 1−α per iteration;
	// well-mixed graphs go much faster (18 iterations for 1,000 random
	// peers vouching for 20 others each), but where mixing is slow — a
	// cycle, or a clique whose trust leaks out only through damping — it
	// converges at exactly 1−α and needs ≈130 iterations for ε = 1e-9.
	// 200 covers that with room (0.85^200 ≈ 8e-15) at ~20 ms for 1,000
	// peers in the worst case; the [Result] reports the iterations and
	// whether Epsilon was reached.
	MaxIter int

	// Kappa sets the Polo scale: polo = round(1000·(1 − exp(−N·t_i/Kappa)))
	// with N the number of peers in the graph. Must be > 0. Default 2.
	//
	// Why 2: a peer with the average share t_i = 1/N gets 393, twice the
	// average 632, five times 918, so the scale keeps headroom above the
	// average to tell the best apart, and a peer with a tenth of the average
	// still shows 49 rather than 0. Smaller would saturate near 1000 for
	// merely good peers; larger would squash everyone near 0.
	Kappa float64
}

// DefaultParams returns the default configuration, every field filled in.
func DefaultParams() Params {
	return Params{}.withDefaults()
}

// withDefaults returns p with every zero or invalid field replaced by its
// default.
func (p Params) withDefaults() Params {
	if p.HalfLife <= 0 {
		p.HalfLife = DefaultHalfLife
	}
	if !positive(p.Saturation) {
		p.Saturation = DefaultSaturation
	}
	if !positive(p.SelfWeight) || p.SelfWeight > 1 {
		p.SelfWeight = DefaultSelfWeight
	}
	if !positive(p.Alpha) || p.Alpha > 1 {
		p.Alpha = DefaultAlpha
	}
	if !positive(p.Epsilon) {
		p.Epsilon = DefaultEpsilon
	}
	if p.MaxIter <= 0 {
		p.MaxIter = DefaultMaxIter
	}
	if !positive(p.Kappa) {
		p.Kappa = DefaultKappa
	}
	return p
}

// positive reports whether x is a finite number above zero.
func positive(x float64) bool {
	return x > 0 && !math.IsInf(x, 1)
}

// saturate is g(x) = sat·(1 − exp(−x/sat)).
func saturate(x, sat float64) float64 {
	return -sat * math.Expm1(-x/sat)
}

// localTrust is l = max(0, g(s) − FailureWeight·g(f)).
func localTrust(s, f, sat float64) float64 {
	return max(0, saturate(s, sat)-FailureWeight*saturate(f, sat))
}

// PoloOf maps a global trust share t (the peer's t_i) in a graph of n peers
// to the Polo scale: round(1000·(1 − exp(−n·t/kappa))), clamped to
// [0, 1000]. 0 means no standing with anyone you (transitively) trust; 393
// is the share of an average participant (t = 1/n, kappa = 2); scores tend
// to 1000 for peers far above average.
func PoloOf(t float64, n int, kappa float64) int {
	if !(t > 0) || n <= 0 || !positive(kappa) {
		return 0
	}
	v := math.Round(-1000 * math.Expm1(-float64(n)*t/kappa))
	return int(min(1000, max(0, v)))
}
