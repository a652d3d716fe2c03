package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// samplerTable is the number of exact CDF entries of a plSampler; draws
// beyond xmin+samplerTable use the continuous approximation of the tail,
// whose error there is far below sampling noise.
const samplerTable = 1 << 16

// maxSample caps a synthetic power-law draw so that alpha near 1 cannot
// overflow an int; it is far beyond any degree.
const maxSample = 1 << 50

// plSampler draws from the discrete power law x^-alpha / zeta(alpha, xmin),
// x ≥ xmin, by inverse transform: an exact CDF table near xmin, then the
// continuous approximation P(X ≥ x) ∝ (x - ½)^(1-alpha) for the far tail.
type plSampler struct {
	xmin  int
	alpha float64
	cdf   []float64 // cdf[j] = P(X ≤ xmin + j)
}

func newPLSampler(xmin int, alpha float64) *plSampler {
	z := mathext.Zeta(alpha, float64(xmin))
	cdf := make([]float64, 0, 1024)
	var cum float64
	for k := xmin; len(cdf) < samplerTable; k++ {
		cum += math.Pow(float64(k), -alpha) / z
		cdf = append(cdf, cum)
		if 1-cum < 1e-13 {
			break
		}
	}
	return &plSampler{xmin: xmin, alpha: alpha, cdf: cdf}
}

func (p *plSampler) draw(rng *rand.Rand) int {
	u := rng.Float64()
	last := p.cdf[len(p.cdf)-1]
	if u < last {
		j, _ := slices.BinarySearch(p.cdf, u)
		for j < len(p.cdf)-1 && p.cdf[j] <= u {
			j++
		}
		return p.xmin + j
	}
	if last >= 1 {
		return p.xmin + len(p.cdf) - 1
	}
	// Far tail: X ≥ t with t = xmin + len(cdf); P(X ≥ x | X ≥ t) ≈
	// ((x-½)/(t-½))^(1-alpha).
	t := float64(p.xmin + len(p.cdf))
	frac := (1 - u) / (1 - last) // uniform on (0, 1]
	x := math.Floor((t-0.5)*math.Pow(frac, -1/(p.alpha-1)) + 0.5)
	if !(x < maxSample) {
		return maxSample
	}
	return max(int(x), int(t))
}

// GoodnessOfFit returns the Clauset–Shalizi–Newman semi-parametric
// bootstrap p-value of the power law f for the positive values of xs: the
// fraction of opts.Bootstrap synthetic data sets whose own best fit
// (FitPowerLaw, xmin scan included) is at least as far in KS distance from
// them as f is from xs. Each synthetic set has len(xs) values; each is,
// with probability NTail/n, a draw from the fitted power law and otherwise
// a uniform pick from the observed values below f.Xmin. The observed
// distance is recomputed from xs, f.Alpha and f.Xmin (f.KS is not
// trusted). p ≤ 0.1 rejects the power law. With the default 2500 data sets
// p is good to about ±0.01.
func GoodnessOfFit(xs []int, f Fit, opts Options) (p float64, err error) {
	sorted, err := positives(xs)
	if err != nil {
		return 0, err
	}
	prog := &progressFn{total: opts.bootstrap(), fn: opts.Progress}
	return goodnessOfFit(sorted, f, opts, prog)
}

// goodnessOfFit is GoodnessOfFit on sorted positive data.
func goodnessOfFit(sorted []int, f Fit, opts Options, prog *progressFn) (float64, error) {
	if !(f.Alpha > 1) || math.IsInf(f.Alpha, 0) || f.Xmin < 1 {
		return 0, fmt.Errorf("analysis: goodness of fit: invalid fit alpha=%v xmin=%d", f.Alpha, f.Xmin)
	}
	cut, _ := slices.BinarySearch(sorted, f.Xmin)
	lower, nTail := sorted[:cut], len(sorted)-cut
	if nTail < 1 || len(sorted) < MinTail {
		return 0, fmt.Errorf("%w: %d values, %d of them ≥ xmin %d", ErrTooFew, len(sorted), nTail, f.Xmin)
	}
	s := newSample(sorted[cut:])
	observed := s.ksFrom(0, f.Xmin, f.Alpha)
	sampler := newPLSampler(f.Xmin, f.Alpha)
	pTail := float64(nTail) / float64(len(sorted))
	b := opts.bootstrap()
	worse := make([]bool, b)
	runParallel(b, opts.workers(), prog, func(i int) {
		rng := newRand(opts.Seed, domainGoF, uint64(i))
		syn := make([]int, len(sorted))
		for j := range syn {
			if len(lower) == 0 || rng.Float64() < pTail {
				syn[j] = sampler.draw(rng)
			} else {
				syn[j] = lower[rng.IntN(len(lower))]
			}
		}
		slices.Sort(syn)
		fit, err := fitSorted(syn)
		worse[i] = err != nil || fit.KS >= observed
	})
	count := 0
	for _, w := range worse {
		if w {
			count++
		}
	}
	return float64(count) / float64(b), nil
}

// alphaCI returns the 95% percentile-bootstrap interval of alpha: the
// sorted positive data resampled with replacement reps times, each
// resample fitted afresh (xmin scan included).
func alphaCI(sorted []int, reps int, opts Options, prog *progressFn) [2]float64 {
	alphas := make([]float64, reps)
	runParallel(reps, opts.workers(), prog, func(i int) {
		rng := newRand(opts.Seed, domainAlpha, uint64(i))
		res := make([]int, len(sorted))
		for j := range res {
			res[j] = sorted[rng.IntN(len(sorted))]
		}
		slices.Sort(res)
		fit, err := fitSorted(res)
		if err != nil {
			alphas[i] = math.NaN()
			return
		}
		alphas[i] = fit.Alpha
	})
	return percentiles(alphas, 0.025, 0.975)
}
