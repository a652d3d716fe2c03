package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/graph/graphs/gen"
	"gonum.org/v1/gonum/graph/simple"
)

// testOpts keeps the bootstraps small enough for CI; production uses the
// defaults (2500 goodness-of-fit data sets, 500 alpha resamples).
var testOpts = Options{Bootstrap: 200, Seed: 1}

// powerLawSample draws n values from the discrete power law with the given
// alpha and xmin by exact inverse transform.
func powerLawSample(n int, alpha float64, xmin int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x706c))
	s := newPLSampler(xmin, alpha)
	xs := make([]int, n)
	for i := range xs {
		xs[i] = s.draw(rng)
	}
	return xs
}

// geometricSample draws n values 1, 2, ... with P(x) = (1-q) q^(x-1).
func geometricSample(n int, q float64, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x6765))
	xs := make([]int, n)
	for i := range xs {
		xs[i] = 1 + int(math.Floor(math.Log(1-rng.Float64())/math.Log(q)))
	}
	return xs
}

// lognormalSample draws n values round(exp(N(mu, sigma²))); the zeros it
// can give are ignored by the fit.
func lognormalSample(n int, mu, sigma float64, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0x6c6e))
	xs := make([]int, n)
	for i := range xs {
		xs[i] = int(math.Round(math.Exp(mu + sigma*rng.NormFloat64())))
	}
	return xs
}

// baEdges returns a Barabási–Albert graph from gonum's generator.
func baEdges(t testing.TB, n, m int, seed uint64) []Edge {
	t.Helper()
	g := simple.NewUndirectedGraph()
	if err := gen.PreferentialAttachment(g, n, m, rand.NewPCG(seed, 0x6261)); err != nil {
		t.Fatal(err)
	}
	return gonumEdges(g)
}

func gonumEdges(g *simple.UndirectedGraph) []Edge {
	var out []Edge
	it := g.Edges()
	for it.Next() {
		e := it.Edge()
		out = append(out, Edge{U: e.From().ID(), V: e.To().ID()})
	}
	return out
}

func ring(n int) []Edge {
	var out []Edge
	for i := range n {
		out = append(out, Edge{U: int64(i), V: int64((i + 1) % n)})
	}
	return out
}

func complete(n int) []Edge {
	var out []Edge
	for i := range n {
		for j := i + 1; j < n; j++ {
			out = append(out, Edge{U: int64(i), V: int64(j)})
		}
	}
	return out
}

func star(leaves int) []Edge {
	var out []Edge
	for i := 1; i <= leaves; i++ {
		out = append(out, Edge{U: 0, V: int64(i)})
	}
	return out
}

// degreeReport runs the degree-distribution half of Analyze on xs.
func degreeReport(t *testing.T, xs []int, opts Options) Report {
	t.Helper()
	fit, err := FitPowerLaw(xs)
	if err != nil {
		t.Fatal(err)
	}
	p, err := GoodnessOfFit(xs, fit, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := Report{Alpha: fit.Alpha, Xmin: fit.Xmin, NTail: fit.NTail, KS: fit.KS, TailDecades: fit.TailDecades,
		GofP: p, LRExponential: CompareExponential(xs, fit), LRLognormal: CompareLognormal(xs, fit)}
	r.Verdict = Verdict(r)
	t.Logf("alpha=%.4f xmin=%d ntail=%d decades=%.2f ks=%.4f gof_p=%.3f lr_exp=%+.2f (p=%.2g) lr_logn=%+.2f (p=%.2g) verdict=%q",
		r.Alpha, r.Xmin, r.NTail, r.TailDecades, r.KS, r.GofP, r.LRExponential.R, r.LRExponential.P,
		r.LRLognormal.R, r.LRLognormal.P, r.Verdict)
	return r
}
