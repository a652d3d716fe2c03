package score

import (
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Detail is one peer's score as of the last Compute, with what it rests on.
type Detail struct {
	// Polo is the score on the Polo scale, 0 to 1000 (see [PoloOf]).
	Polo int
	// Trust is the global trust t_i; it sums to 1 over the graph.
	Trust float64
	// Attestations is the raw number of attestations about the peer.
	Attestations int
	// Successes is the raw number of successful attestations about it.
	Successes int
	// Failures is the raw number of failed attestations about it.
	Failures int
	// LastSeen is the latest IssuedAt of an attestation about the peer.
	LastSeen time.Time
	// Issuers is the number of distinct issuers of attestations about it.
	Issuers int
	// Iterations is the number of power iterations of the Compute.
	Iterations int
	// ComputedAt is the time the evidence was decayed to.
	ComputedAt time.Time
	// Derivation explains the score in one human sentence.
	Derivation string
}

// Score returns p's score from the last Compute. A peer unknown to it — a
// new identity, or one first seen after that Compute — scores 0. The score
// of the local node itself is computed like any other but is not
// meaningful: it holds the anchor mass the node gives itself.
func (e *Engine) Score(p peer.ID) Detail {
	e.mu.RLock()
	defer e.mu.RUnlock()
	s := e.cache
	if s == nil {
		return Detail{Derivation: "not computed yet"}
	}
	d := Detail{Iterations: s.iterations, ComputedAt: s.computedAt}
	i, ok := e.index[p]
	if !ok || int(i) >= len(s.trust) {
		d.Derivation = fmt.Sprintf("no attestations about this peer; polo 0 (computation of %d iterations anchored on %s)",
			s.iterations, s.anchorText())
		return d
	}
	st := s.stats[i]
	d.Polo, d.Trust = s.polo[i], s.trust[i]
	d.Successes, d.Failures = st.successes, st.failures
	d.Attestations = st.successes + st.failures
	d.LastSeen, d.Issuers = st.lastSeen, st.issuers
	d.Derivation = s.derivation(d, e.params, p, s.isAnchor[i])
	return d
}

// derivation writes the one-sentence explanation of d.
func (s *snapshot) derivation(d Detail, prm Params, p peer.ID, anchor bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s from %s (%s, %s), decayed with half-life %s, saturating at %g per issuer; "+
		"global trust %.3g (polo %d) after %d iterations anchored on %s",
		plural(d.Attestations, "attestation"), plural(d.Issuers, "issuer"),
		plural(d.Successes, "success"), plural(d.Failures, "failure"),
		days(prm.HalfLife), prm.Saturation, d.Trust, d.Polo, d.Iterations, s.anchorText())
	switch {
	case s.selfSet && p == s.self:
		b.WriteString("; this is you, so the score is not meaningful")
	case anchor:
		b.WriteString("; you trust this peer, so part of its trust is the anchor share you give it")
	}
	return b.String()
}

// anchorText names the anchors of the computation.
func (s *snapshot) anchorText() string {
	switch {
	case s.selfSet && s.trusted > 0:
		return "you and " + plural(s.trusted, "trusted peer")
	case s.selfSet:
		return "you"
	case s.trusted > 0:
		return plural(s.trusted, "trusted peer")
	default:
		return "no one (uniform pre-trust)"
	}
}

// plural writes n and word, pluralised in English.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// days formats d as whole days ("14d") when it is one, else as a Duration.
func days(d time.Duration) string {
	const day = 24 * time.Hour
	if d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}
