package score

import (
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Evidence is one attestation as the score sees it, already validated.
type Evidence struct {
	// Issuer is the requester who vouches.
	Issuer peer.ID
	// Subject is the worker the attestation is about.
	Subject peer.ID
	// Success is the outcome of the task.
	Success bool
	// Cost is the work done, in milliseconds. It is carried for callers and
	// reports; the score counts tasks, not cost, because cost is declared by
	// the very pair that might collude and one large task should not weigh
	// like many.
	Cost uint64
	// IssuedAt is when the issuer signed the attestation; it drives the
	// time decay.
	IssuedAt time.Time
}

// maxExponent bounds, in half-lives, how far after the reference time an
// accumulator weight may be taken before Add rebases every accumulator
// (2^256 keeps far from float64 overflow; rebasing happens about once per
// 256 half-lives, a decade at the default).
const maxExponent = 256

// pairKey identifies an (issuer, subject) pair by peer index.
type pairKey struct{ issuer, subject int32 }

// pair accumulates the evidence of one (issuer, subject) pair. Weights are
// kept relative to Engine.ref: each item adds 2^((IssuedAt−ref)/HalfLife),
// so Add is O(1) and the decay to any time is one multiplication.
type pair struct {
	issuer, subject int32
	s, f            float64 // decayed successes and failures, relative to ref
	ns, nf          int     // raw counts, which also cap s and f
}

// peerStat holds the raw counts about one peer as a subject.
type peerStat struct {
	successes, failures int
	issuers             int       // distinct issuers about this peer
	issued              int       // attestations this peer issued
	lastSeen            time.Time // latest IssuedAt about this peer
}

// Engine holds evidence and computes Polo scores. It is safe for concurrent
// use: Add, SetAnchors, Score, Pair and Stale may be called from any
// goroutine, also while Compute runs; concurrent Computes are serialised.
type Engine struct {
	params Params

	computeMu sync.Mutex // serialises Compute

	mu      sync.RWMutex
	index   map[peer.ID]int32
	ids     []peer.ID
	stats   []peerStat
	pairIdx map[pairKey]int32
	pairs   []pair
	ref     time.Time // reference time of the pair accumulators
	hasRef  bool
	self    peer.ID
	trusted []peer.ID
	version uint64 // bumped by every accepted Add and every SetAnchors
	ignored uint64 // evidence dropped by Add
	cache   *snapshot
}

// New returns an empty Engine. Zero or invalid fields of p take their
// defaults (see [Params]).
func New(p Params) *Engine {
	return &Engine{
		params:  p.withDefaults(),
		index:   make(map[peer.ID]int32),
		pairIdx: make(map[pairKey]int32),
	}
}

// Params returns the parameters in effect, defaults filled in.
func (e *Engine) Params() Params {
	return e.params
}

// SetAnchors sets the personalised pre-trust vector p: self, the local node,
// gets Params.SelfWeight and the trusted peers share the rest equally; with
// no trusted peers all of p is on self, and with no self the trusted peers
// share all of it. Duplicates, empty IDs and self among trusted are ignored.
// Until SetAnchors names someone, p is uniform over all peers in the graph —
// plain, non-personalised EigenTrust, which a Sybil collective can game, so
// a node must set its anchors. The local node's outgoing trust is built from
// the evidence it issued, like anyone else's. Changing the anchors makes
// the engine [Engine.Stale].
func (e *Engine) SetAnchors(self peer.ID, trusted []peer.ID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []peer.ID
	seen := map[peer.ID]bool{self: true, "": true}
	for _, id := range trusted {
		if !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	e.self, e.trusted = self, list
	if self != "" {
		e.indexOf(self)
	}
	for _, id := range list {
		e.indexOf(id)
	}
	e.version++
}

// Add records one piece of evidence in O(1). Evidence with an empty issuer
// or subject, or about its own issuer, is ignored and counted in
// [Result.Ignored]. Evidence dated after the time passed to Compute counts
// more than fully (it has "negative age"), but a pair's decayed sum never
// exceeds its raw count and saturation bounds it anyway; the validation
// layer rejects attestations far in the future.
func (e *Engine) Add(ev Evidence) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if ev.Issuer == "" || ev.Subject == "" || ev.Issuer == ev.Subject {
		e.ignored++
		return
	}
	if !e.hasRef {
		e.ref, e.hasRef = ev.IssuedAt, true
	}
	x := e.halfLives(ev.IssuedAt, e.ref)
	if x > maxExponent {
		e.rebase(ev.IssuedAt)
		x = 0
	}
	w := math.Exp2(x)

	i, j := e.indexOf(ev.Issuer), e.indexOf(ev.Subject)
	k, ok := e.pairIdx[pairKey{i, j}]
	if !ok {
		k = int32(len(e.pairs))
		e.pairIdx[pairKey{i, j}] = k
		e.pairs = append(e.pairs, pair{issuer: i, subject: j})
		e.stats[j].issuers++
	}
	pr := &e.pairs[k]
	st := &e.stats[j]
	if ev.Success {
		pr.s += w
		pr.ns++
		st.successes++
	} else {
		pr.f += w
		pr.nf++
		st.failures++
	}
	e.stats[i].issued++
	if ev.IssuedAt.After(st.lastSeen) {
		st.lastSeen = ev.IssuedAt
	}
	e.version++
}

// Stale reports whether evidence was added, or the anchors changed, since
// the last Compute started.
func (e *Engine) Stale() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.cache == nil {
		return e.version != 0
	}
	return e.cache.version != e.version
}

// PairTrust is what one issuer says about one subject at a given time.
type PairTrust struct {
	// Successes is s_ij, the decayed sum of successes.
	Successes float64
	// Failures is f_ij, the decayed sum of failures.
	Failures float64
	// Local is l_ij = max(0, g(s_ij) − 2·g(f_ij)), at most Params.Saturation.
	Local float64
	// Attestations is the raw number of attestations of the pair.
	Attestations int
}

// Pair returns what issuer says about subject, decayed to now: the
// accumulators behind local trust, for inspection and explanation. It is
// the zero PairTrust if the pair has no evidence.
func (e *Engine) Pair(issuer, subject peer.ID, now time.Time) PairTrust {
	e.mu.RLock()
	defer e.mu.RUnlock()
	i, ok1 := e.index[issuer]
	j, ok2 := e.index[subject]
	k, ok3 := e.pairIdx[pairKey{i, j}]
	if !ok1 || !ok2 || !ok3 {
		return PairTrust{}
	}
	pr := e.pairs[k]
	factor := math.Exp2(e.halfLives(e.ref, now))
	s := decayed(pr.s, factor, pr.ns)
	f := decayed(pr.f, factor, pr.nf)
	return PairTrust{
		Successes:    s,
		Failures:     f,
		Local:        localTrust(s, f, e.params.Saturation),
		Attestations: pr.ns + pr.nf,
	}
}

// indexOf returns the index of id, adding it if new. The caller holds mu
// for writing.
func (e *Engine) indexOf(id peer.ID) int32 {
	if i, ok := e.index[id]; ok {
		return i
	}
	i := int32(len(e.ids))
	e.index[id] = i
	e.ids = append(e.ids, id)
	e.stats = append(e.stats, peerStat{})
	return i
}

// halfLives returns (t − from) in half-lives. Durations saturate at about
// ±292 years, far beyond where weights vanish.
func (e *Engine) halfLives(t, from time.Time) float64 {
	return float64(t.Sub(from)) / float64(e.params.HalfLife)
}

// rebase moves the accumulators' reference time to ref. The caller holds mu
// for writing.
func (e *Engine) rebase(ref time.Time) {
	factor := math.Exp2(e.halfLives(e.ref, ref))
	for k := range e.pairs {
		e.pairs[k].s *= factor
		e.pairs[k].f *= factor
	}
	e.ref = ref
}

// decayed returns an accumulator decayed by factor, capped at its raw count
// n (no item weighs more than 1 once it is in the past; the cap also bounds
// items dated in the future).
func decayed(acc, factor float64, n int) float64 {
	if acc <= 0 || n == 0 {
		return 0
	}
	v := acc * factor
	if math.IsNaN(v) || v > float64(n) {
		return float64(n)
	}
	return v
}
