package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"
)

// MinTail is the smallest tail FitPowerLaw fits: an xmin is a candidate only
// when at least MinTail values are ≥ it.
const MinTail = 10

// maxCandidates caps the xmin values FitPowerLaw tries; when more distinct
// values qualify, it tries maxCandidates of them evenly spaced in rank
// (always including the smallest). Degree data of testnet size has far
// fewer distinct values, so the cap only bounds the cost of odd input.
const maxCandidates = 256

// Bounds of the alpha search. The discrete likelihood is concave in alpha,
// so the maximum inside [alphaMin, alphaMax] is the global one; a fit at
// alphaMax means the tail is lighter than any power law worth the name.
const (
	alphaMin = 1 + 1e-6
	alphaMax = 20.0
)

// zetaGap: CCDFs are built by summing k^-alpha over gaps between distinct
// values up to this width, and by a Hurwitz-zeta call for wider gaps.
const zetaGap = 32

// ErrTooFew is returned when there are fewer than MinTail positive values
// (or, from AttachmentExponent, too few usable nodes) to fit.
var ErrTooFew = errors.New("analysis: too few data points to fit")

// Fit is a discrete power law p(x) = x^-Alpha / zeta(Alpha, Xmin) for
// x ≥ Xmin, fitted to the NTail values ≥ Xmin. KS is the Kolmogorov–Smirnov
// distance between the tail and the fit; TailDecades is
// log10(largest value / Xmin), the width of the fitted tail.
type Fit struct {
	Alpha       float64
	Xmin        int
	NTail       int
	KS          float64
	TailDecades float64
}

// sample is a sorted data set summarised for repeated tail fits.
type sample struct {
	vals   []int     // distinct values, ascending, all ≥ 1
	cnt    []int     // cnt[i] = occurrences of vals[i]
	sufN   []int     // number of values ≥ vals[i]
	sufLog []float64 // sum of ln x over values ≥ vals[i]
}

// positives returns the positive values of xs, sorted; zeros are dropped
// and a negative value is an error.
func positives(xs []int) ([]int, error) {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		switch {
		case x < 0:
			return nil, fmt.Errorf("analysis: negative value %d", x)
		case x > 0:
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out, nil
}

// newSample summarises sorted positive data.
func newSample(sorted []int) *sample {
	s := &sample{}
	for i := 0; i < len(sorted); {
		j := i
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		s.vals = append(s.vals, sorted[i])
		s.cnt = append(s.cnt, j-i)
		i = j
	}
	k := len(s.vals)
	s.sufN = make([]int, k+1)
	s.sufLog = make([]float64, k+1)
	for i := k - 1; i >= 0; i-- {
		s.sufN[i] = s.sufN[i+1] + s.cnt[i]
		s.sufLog[i] = s.sufLog[i+1] + float64(s.cnt[i])*math.Log(float64(s.vals[i]))
	}
	return s
}

// FitPowerLaw fits a discrete power law to the positive values of xs the
// Clauset–Shalizi–Newman way: for each candidate xmin (a distinct value
// with at least MinTail values ≥ it, at most maxCandidates of them) alpha
// is the exact discrete maximum-likelihood estimate, found by maximising
// the Hurwitz-zeta likelihood numerically (Brent's method on
// [1+1e-6, 20]), and the xmin whose fit has the smallest KS distance wins
// (the smaller xmin on a tie). Zeros are ignored; a negative value is an
// error; fewer than MinTail positive values is ErrTooFew.
func FitPowerLaw(xs []int) (Fit, error) {
	sorted, err := positives(xs)
	if err != nil {
		return Fit{}, err
	}
	return fitSorted(sorted)
}

// fitSorted is FitPowerLaw on sorted positive data.
func fitSorted(sorted []int) (Fit, error) {
	if len(sorted) < MinTail {
		return Fit{}, fmt.Errorf("%w: %d positive values, need %d", ErrTooFew, len(sorted), MinTail)
	}
	s := newSample(sorted)
	var cands []int
	for i := range s.vals {
		if s.sufN[i] >= MinTail {
			cands = append(cands, i)
		}
	}
	if len(cands) > maxCandidates {
		thin := make([]int, maxCandidates)
		for j := range thin {
			thin[j] = cands[j*(len(cands)-1)/(maxCandidates-1)]
		}
		cands = slices.Compact(thin)
	}
	best := Fit{KS: math.Inf(1)}
	for _, i := range cands {
		alpha := s.mle(i)
		ks := s.ksFrom(i, s.vals[i], alpha)
		if ks < best.KS {
			best = Fit{Alpha: alpha, Xmin: s.vals[i], NTail: s.sufN[i], KS: ks}
		}
	}
	best.TailDecades = math.Log10(float64(s.vals[len(s.vals)-1]) / float64(best.Xmin))
	return best, nil
}

// mle returns the discrete MLE of alpha for the tail starting at vals[i].
func (s *sample) mle(i int) float64 {
	n, sumLog, xmin := float64(s.sufN[i]), s.sufLog[i], float64(s.vals[i])
	negLL := func(a float64) float64 {
		a = max(a, alphaMin) // mathext.Zeta panics below 1
		v := n*math.Log(mathext.Zeta(a, xmin)) + a*sumLog
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.MaxFloat64 // zeta underflowed: absurdly large data
		}
		return v
	}
	return brentMin(negLL, alphaMin, alphaMax, 1e-7)
}

// ksFrom returns the exact Kolmogorov–Smirnov distance between the
// empirical distribution of the values ≥ vals[i] and the discrete power law
// with the given xmin (≤ vals[i]) and alpha. Both CDFs are step functions,
// so the supremum is attained at a data value or just below one.
func (s *sample) ksFrom(i, xmin int, alpha float64) float64 {
	tail := s.vals[i:]
	hz := s.hurwitz(tail, alpha) // hz[j] = zeta(alpha, tail[j])
	z0 := hz[0]
	if xmin != tail[0] {
		z0 = mathext.Zeta(alpha, float64(xmin))
	}
	if !(z0 > 0) || math.IsInf(z0, 0) {
		return 1 // zeta underflowed: absurdly large data, no usable fit
	}
	n := float64(s.sufN[i])
	var d, cum, prevF float64
	for j, v := range tail {
		below := 1 - hz[j]/z0 // model P(X < v)
		d = max(d, math.Abs(prevF-below))
		cum += float64(s.cnt[i+j])
		empF := cum / n
		at := below + math.Pow(float64(v), -alpha)/z0 // model P(X ≤ v)
		d = max(d, math.Abs(empF-at))
		prevF = empF
	}
	return d
}

// hurwitz returns zeta(alpha, v) for each ascending v in vals, summing
// terms downwards over small gaps (no cancellation: every term is
// positive) and calling mathext.Zeta across wide ones.
func (s *sample) hurwitz(vals []int, alpha float64) []float64 {
	out := make([]float64, len(vals))
	last := len(vals) - 1
	out[last] = mathext.Zeta(alpha, float64(vals[last]))
	for j := last - 1; j >= 0; j-- {
		lo, hi := vals[j], vals[j+1]
		if hi-lo > zetaGap {
			out[j] = mathext.Zeta(alpha, float64(lo))
			continue
		}
		z := out[j+1]
		for k := hi - 1; k >= lo; k-- {
			z += math.Pow(float64(k), -alpha)
		}
		out[j] = z
	}
	return out
}

// brentMin returns the minimiser of f on [a, b] by Brent's method
// (golden section with parabolic steps), to within about tol.
func brentMin(f func(float64) float64, a, b, tol float64) float64 {
	const (
		golden = 0.3819660112501051 // (3 - sqrt 5) / 2
		eps    = 1.4901161193847656e-08
	)
	x := a + golden*(b-a)
	w, v := x, x
	fx := f(x)
	fw, fv := fx, fx
	var d, e float64
	for iter := 0; iter < 200; iter++ {
		m := 0.5 * (a + b)
		tol1 := eps*math.Abs(x) + tol/3
		tol2 := 2 * tol1
		if math.Abs(x-m) <= tol2-0.5*(b-a) {
			break
		}
		parabolic := false
		if math.Abs(e) > tol1 {
			r := (x - w) * (fx - fv)
			q := (x - v) * (fx - fw)
			p := (x-v)*q - (x-w)*r
			q = 2 * (q - r)
			if q > 0 {
				p = -p
			}
			q = math.Abs(q)
			r, e = e, d
			if math.Abs(p) < math.Abs(0.5*q*r) && p > q*(a-x) && p < q*(b-x) {
				d = p / q
				if u := x + d; u-a < tol2 || b-u < tol2 {
					d = math.Copysign(tol1, m-x)
				}
				parabolic = true
			}
		}
		if !parabolic {
			if x >= m {
				e = a - x
			} else {
				e = b - x
			}
			d = golden * e
		}
		u := x + d
		if math.Abs(d) < tol1 {
			u = x + math.Copysign(tol1, d)
		}
		fu := f(u)
		if fu <= fx {
			if u < x {
				b = x
			} else {
				a = x
			}
			v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
			continue
		}
		if u < x {
			a = u
		} else {
			b = u
		}
		switch {
		case fu <= fw || w == x:
			v, fv, w, fw = w, fw, u, fu
		case fu <= fv || v == x || v == w:
			v, fv = u, fu
		}
	}
	return x
}
