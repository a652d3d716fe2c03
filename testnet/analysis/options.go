package analysis

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// Production defaults of Options.
const (
	// DefaultBootstrap synthetic data sets give the goodness-of-fit p-value
	// to about ±0.01 (CSN 2009, §4.1).
	DefaultBootstrap = 2500
	// MaxAlphaBootstrap caps the resamples behind Report.AlphaCI: a
	// percentile interval needs far fewer replicates than a p-value near
	// 0.1, and each one is a full fit.
	MaxAlphaBootstrap = 500
	// DefaultRewires is how many degree-preserving rewired graphs Analyze
	// averages for the rich-club baseline.
	DefaultRewires = 5
)

// Options tunes the bootstrap parts of the analysis. The zero value means
// the production defaults.
type Options struct {
	// Bootstrap is the number of synthetic data sets for the
	// goodness-of-fit p-value; 0 or less means DefaultBootstrap (2500, which
	// pins p to ±0.01). Analyze also resamples the degrees
	// min(Bootstrap, MaxAlphaBootstrap) times for the percentile bootstrap
	// behind Report.AlphaCI (default 500, capped for speed).
	Bootstrap int
	// Seed makes every result deterministic: the same data, options and
	// seed give the same numbers whatever Workers is.
	Seed uint64
	// Workers is the parallelism of the bootstraps; 0 or less means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Progress, if not nil, is called after each bootstrap replicate with
	// the number done so far and the total. Calls come from worker
	// goroutines but never overlap, and done increases by one each call.
	// It must not block for long.
	Progress func(done, total int)
}

func (o Options) bootstrap() int {
	if o.Bootstrap <= 0 {
		return DefaultBootstrap
	}
	return o.Bootstrap
}

func (o Options) workers() int {
	if o.Workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return o.Workers
}

// Random streams: each replicate draws from its own PCG stream keyed by
// (seed ^ domain, replicate index), so results do not depend on scheduling.
const (
	domainGoF      = 0x676f6f646e657373 // "goodness"
	domainAlpha    = 0x616c70686163692e // "alphaci."
	domainRichClub = 0x72696368636c7562 // "richclub"
	domainAttach   = 0x61747461636865d0 // "attache"
)

func newRand(seed, domain, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^domain, stream))
}

// progressFn counts finished replicates across several runParallel calls.
type progressFn struct {
	mu    sync.Mutex
	done  int
	total int
	fn    func(done, total int)
}

func (p *progressFn) tick() {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.fn(p.done, p.total)
}

// runParallel calls fn(i) for i in [0, n) on up to workers goroutines and
// ticks progress after each call.
func runParallel(n, workers int, progress *progressFn, fn func(i int)) {
	workers = max(1, min(workers, n))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
				progress.tick()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// percentiles returns the lo and hi quantiles (0..1) of xs by linear
// interpolation between order statistics; NaNs are dropped first. It
// returns zeros for an empty input.
func percentiles(xs []float64, lo, hi float64) [2]float64 {
	s := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(s) == 0 {
		return [2]float64{}
	}
	slices.Sort(s)
	q := func(p float64) float64 {
		pos := p * float64(len(s)-1)
		i := int(pos)
		if i >= len(s)-1 {
			return s[len(s)-1]
		}
		return s[i] + (pos-float64(i))*(s[i+1]-s[i])
	}
	return [2]float64{q(lo), q(hi)}
}
