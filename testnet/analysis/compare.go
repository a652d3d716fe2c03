package analysis

import (
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/optimize"
)

// LR is Vuong's test of the fitted power law against an alternative on the
// same tail. R is the normalised log-likelihood ratio
// sum(l_i) / (sigma * sqrt(n)), where l_i = ln p_powerlaw(x_i) -
// ln p_alternative(x_i) and sigma is the standard deviation of the l_i;
// positive R favours the power law. P is the two-sided p-value of the sign
// of R, erfc(|R|/sqrt 2): when P ≥ 0.1 the test cannot tell the two apart.
type LR struct {
	R float64 `json:"R"`
	P float64 `json:"p"`
}

// inconclusive is the result when the test cannot be done (too small or
// degenerate a tail, or an invalid fit).
var inconclusive = LR{R: 0, P: 1}

// tailOf returns the summarised values of xs that are ≥ f.Xmin, or nil when
// there are fewer than two or f is unusable.
func tailOf(xs []int, f Fit) *sample {
	if !(f.Alpha > 1) || math.IsInf(f.Alpha, 0) || f.Xmin < 1 {
		return nil
	}
	var tail []int
	for _, x := range xs {
		if x >= f.Xmin {
			tail = append(tail, x)
		}
	}
	if len(tail) < 2 {
		return nil
	}
	sorted, err := positives(tail)
	if err != nil {
		return nil
	}
	return newSample(sorted)
}

// vuong returns the normalised log-likelihood ratio of the power law f
// against the alternative whose log-pmf is lnAlt, over the tail s.
func vuong(s *sample, f Fit, lnAlt func(x int) float64) LR {
	lnZ := math.Log(mathext.Zeta(f.Alpha, float64(f.Xmin)))
	n := float64(s.sufN[0])
	l := make([]float64, len(s.vals))
	var sum float64
	for i, x := range s.vals {
		l[i] = -f.Alpha*math.Log(float64(x)) - lnZ - lnAlt(x)
		sum += float64(s.cnt[i]) * l[i]
	}
	mean := sum / n
	var ss float64
	for i := range l {
		ss += float64(s.cnt[i]) * (l[i] - mean) * (l[i] - mean)
	}
	sd := math.Sqrt(ss / n)
	if !(sd > 1e-12*max(1, math.Abs(mean))) || math.IsNaN(sum) || math.IsInf(sum, 0) {
		return inconclusive
	}
	r := sum / (sd * math.Sqrt(n))
	return LR{R: r, P: math.Erfc(math.Abs(r) / math.Sqrt2)}
}

// CompareExponential tests the power law f against a discrete exponential
// (a geometric distribution shifted to start at f.Xmin, p(x) ∝ e^(-λx),
// λ fitted by maximum likelihood) on the values of xs that are ≥ f.Xmin,
// by Vuong's normalised log-likelihood ratio. It returns R = 0, P = 1 when
// the test cannot be done (fewer than two tail values, all of them equal,
// or an invalid f).
func CompareExponential(xs []int, f Fit) LR {
	s := tailOf(xs, f)
	if s == nil {
		return inconclusive
	}
	n := float64(s.sufN[0])
	var excess float64
	for i, x := range s.vals {
		excess += float64(s.cnt[i]) * float64(x-f.Xmin)
	}
	m := excess / n // mean of x - xmin; MLE of q = e^-λ is m/(1+m)
	if m == 0 {
		return inconclusive
	}
	lnQ, ln1mQ := math.Log(m/(1+m)), -math.Log1p(m)
	return vuong(s, f, func(x int) float64 { return ln1mQ + float64(x-f.Xmin)*lnQ })
}

// CompareLognormal tests the power law f against a discretised lognormal
// on the values of xs that are ≥ f.Xmin, by Vuong's normalised
// log-likelihood ratio. The lognormal is discrete, not a continuous
// approximation: p(x) is the mass a lognormal(mu, sigma) puts on
// [x-½, x+½), truncated to x ≥ Xmin and renormalised; mu and sigma are
// fitted to the tail by maximum likelihood (Nelder–Mead from two starting
// points, sigma in [1e-3, 1e3]). It returns R = 0, P = 1 when the test
// cannot be done.
func CompareLognormal(xs []int, f Fit) LR {
	s := tailOf(xs, f)
	if s == nil {
		return inconclusive
	}
	mu, sigma, ok := fitLognormal(s, f.Xmin)
	if !ok {
		return inconclusive
	}
	lnNorm := lnQ((math.Log(float64(f.Xmin)-0.5) - mu) / sigma)
	return vuong(s, f, func(x int) float64 { return lnBinLognormal(x, mu, sigma) - lnNorm })
}

// lnBinLognormal is ln P(x-½ ≤ Y < x+½) for Y lognormal(mu, sigma).
func lnBinLognormal(x int, mu, sigma float64) float64 {
	a := (math.Log(float64(x)-0.5) - mu) / sigma
	b := (math.Log(float64(x)+0.5) - mu) / sigma
	return lnMass(a, b)
}

// tailLogLik is the log-likelihood of the truncated discretised lognormal
// on the tail s with the given xmin.
func tailLogLik(s *sample, xmin int, mu, sigma float64) float64 {
	norm := lnQ((math.Log(float64(xmin)-0.5) - mu) / sigma)
	var ll float64
	for i, x := range s.vals {
		ll += float64(s.cnt[i]) * (lnBinLognormal(x, mu, sigma) - norm)
	}
	return ll
}

// fitLognormal maximises tailLogLik over mu and ln sigma.
func fitLognormal(s *sample, xmin int) (mu, sigma float64, ok bool) {
	n := float64(s.sufN[0])
	var m, v float64
	for i, x := range s.vals {
		m += float64(s.cnt[i]) * math.Log(float64(x))
	}
	m /= n
	for i, x := range s.vals {
		d := math.Log(float64(x)) - m
		v += float64(s.cnt[i]) * d * d
	}
	sd := max(math.Sqrt(v/n), 0.1)
	const big = 1e300
	obj := func(p []float64) float64 {
		if math.Abs(p[0]) > 1e6 || math.Abs(p[1]) > math.Log(1e3) {
			return big
		}
		ll := tailLogLik(s, xmin, p[0], math.Exp(p[1]))
		if math.IsNaN(ll) || math.IsInf(ll, 0) {
			return big
		}
		return -ll
	}
	best := math.Inf(1)
	// Start at the moments of ln x, and in the power-law-like corner of a
	// wide lognormal centred far below xmin.
	lnXmin := math.Log(float64(xmin))
	for _, start := range [][]float64{{m, math.Log(sd)}, {lnXmin - 2*4, math.Log(2)}} {
		res, err := optimize.Minimize(optimize.Problem{Func: obj}, start,
			&optimize.Settings{FuncEvaluations: 4000}, &optimize.NelderMead{})
		if res == nil || (err != nil && res.F >= big) {
			continue
		}
		if res.F < best {
			best, mu, sigma = res.F, res.X[0], math.Exp(res.X[1])
		}
	}
	return mu, sigma, best < big
}

// lnQ returns ln Q(z), Q the upper tail of the standard normal, accurate
// for every finite z (an asymptotic series past where erfc underflows).
func lnQ(z float64) float64 {
	if z < 37 {
		return math.Log(0.5 * math.Erfc(z/math.Sqrt2))
	}
	z2 := z * z
	return -z2/2 - math.Log(z) - 0.5*math.Log(2*math.Pi) + math.Log1p(-1/z2+3/(z2*z2)-15/(z2*z2*z2))
}

// lnMass returns ln(Q(a) - Q(b)) = ln P(a ≤ Z < b) for a < b.
func lnMass(a, b float64) float64 {
	w := b - a
	if w*max(1, math.Abs(a), math.Abs(b)) < 1e-4 {
		mid := (a + b) / 2 // midpoint rule, relative error ~ w²·mid²/24
		return math.Log(w) - mid*mid/2 - 0.5*math.Log(2*math.Pi)
	}
	switch {
	case a >= 0:
		la, lb := lnQ(a), lnQ(b)
		return la + math.Log1p(-math.Exp(lb-la))
	case b <= 0:
		return lnMass(-b, -a)
	default:
		return math.Log1p(-(math.Exp(lnQ(b)) + math.Exp(lnQ(-a))))
	}
}
