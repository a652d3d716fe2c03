package score

import (
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/assert"
)

// TestConcurrentUse runs Add, SetAnchors, Compute, Score, Pair and Stale
// from many goroutines at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	e, _ := randomGraph(2, 100, 5)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				attest(e, id("p%d", (w*7+i)%100), id("p%d", (w*13+i*3)%100), 1, i%5 != 0,
					now.Add(-time.Duration(i)*time.Hour))
			}
		})
	}
	wg.Go(func() {
		for i := range 20 {
			r := e.Compute(now)
			assert.InDelta(t, 1, sumTrust(r.Trust), 1e-6)
			if i%5 == 0 {
				e.SetAnchors("p0", []peer.ID{id("p%d", 1+i%3)})
			}
		}
	})
	for range 3 {
		wg.Go(func() {
			for i := range 2000 {
				p := id("p%d", i%100)
				d := e.Score(p)
				assert.GreaterOrEqual(t, d.Polo, 0)
				assert.LessOrEqual(t, d.Polo, 1000)
				_ = e.Pair("p0", p, now)
				_ = e.Stale()
			}
		})
	}
	wg.Wait()
	e.Compute(now)
	assert.False(t, e.Stale())
}
