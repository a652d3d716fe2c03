package score

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// now is the fixed "present" of the tests.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// id returns a readable test peer ID.
func id(format string, a ...any) peer.ID {
	return peer.ID(fmt.Sprintf(format, a...))
}

// attest adds n attestations from issuer about subject, all issued at when.
func attest(e *Engine, issuer, subject peer.ID, n int, success bool, when time.Time) {
	for range n {
		e.Add(Evidence{Issuer: issuer, Subject: subject, Success: success, Cost: 100, IssuedAt: when})
	}
}

// randomGraph fills a new engine with peers p0..p(n-1): p0 is self, p1..p3
// are trusted, and every peer issues evidence about perIssuer random
// subjects, 1–3 attestations each, 90% successes, dated within the last
// 60 days. It returns the engine and the evidence in the order added.
func randomGraph(seed uint64, n, perIssuer int) (*Engine, []Evidence) {
	return randomGraphN(seed, n, perIssuer, 3)
}

// randomGraphN is randomGraph with 1 to maxPerPair attestations per pair.
func randomGraphN(seed uint64, n, perIssuer, maxPerPair int) (*Engine, []Evidence) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var evs []Evidence
	for i := range n {
		for range perIssuer {
			j := rng.IntN(n)
			if j == i {
				continue
			}
			for range 1 + rng.IntN(maxPerPair) {
				evs = append(evs, Evidence{
					Issuer:   id("p%d", i),
					Subject:  id("p%d", j),
					Success:  rng.Float64() < 0.9,
					Cost:     uint64(rng.IntN(1000)),
					IssuedAt: now.Add(-time.Duration(rng.Int64N(int64(60 * 24 * time.Hour)))),
				})
			}
		}
	}
	e := New(Params{})
	var trusted []peer.ID
	for k := 1; k <= 3 && k < n; k++ {
		trusted = append(trusted, id("p%d", k))
	}
	e.SetAnchors(id("p0"), trusted)
	for _, ev := range evs {
		e.Add(ev)
	}
	return e, evs
}
