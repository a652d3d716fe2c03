package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// The three verdicts, from strongest to weakest claim.
const (
	VerdictPowerLaw    = "power law"
	VerdictHeavyTailed = "heavy-tailed, power law not rejected"
	VerdictNotPowerLaw = "not power law"
)

// Report is the whole analysis of one graph, as it appears in report.json.
type Report struct {
	Nodes      int     `json:"nodes"`       // nodes of the simple graph
	Edges      int     `json:"edges"`       // edges of the simple graph
	Kmax       int     `json:"kmax"`        // largest degree
	MeanDegree float64 `json:"mean_degree"` // 2·Edges / Nodes

	Alpha       float64    `json:"alpha"`        // discrete MLE of the power-law exponent
	AlphaCI     [2]float64 `json:"alpha_ci"`     // 95% percentile bootstrap of Alpha, xmin refitted each time
	Xmin        int        `json:"xmin"`         // start of the fitted tail, by minimum KS distance
	NTail       int        `json:"n_tail"`       // nodes with degree ≥ Xmin
	TailDecades float64    `json:"tail_decades"` // log10(Kmax / Xmin)

	KS   float64 `json:"ks"`    // KS distance between the tail and the fit
	GofP float64 `json:"gof_p"` // CSN bootstrap p-value; ≤ 0.1 rejects the power law

	LRExponential LR `json:"lr_exponential"` // power law vs discrete exponential on the tail
	LRLognormal   LR `json:"lr_lognormal"`   // power law vs discretised lognormal on the tail

	Degeneracy  int   `json:"degeneracy"`   // largest k with a non-empty k-core
	KCoreLayers []int `json:"kcore_layers"` // KCoreLayers[k] = nodes whose core number is exactly k

	RichClub      []RichClub `json:"rich_club"`     // see RichClubCoefficients
	Assortativity float64    `json:"assortativity"` // see DegreeAssortativity
	Clustering    float64    `json:"clustering"`    // average local clustering, see AverageClustering

	Verdict string `json:"verdict"` // see Verdict
}

// Analyze returns the whole Report for the simple undirected graph of
// edges: size, degree statistics, the CSN power-law fit of the degrees
// (FitPowerLaw), its bootstrap p-value (GoodnessOfFit with opts), a 95%
// bootstrap interval for alpha (min(opts.Bootstrap, MaxAlphaBootstrap)
// resamples), the likelihood-ratio tests, k-cores, rich club
// (DefaultRewires rewired graphs, seeded by opts.Seed), assortativity,
// clustering and the Verdict. opts.Progress counts both bootstraps.
//
// An empty graph is an error. A graph with fewer than MinTail nodes cannot
// be fitted: Analyze then returns the Report with every graph statistic
// filled in, the fit fields zero and Verdict "not power law", together with
// an error wrapping ErrTooFew.
func Analyze(edges []Edge, opts Options) (Report, error) {
	g := newCSR(edges)
	if len(g.edges) == 0 {
		return Report{}, errors.New("analysis: empty graph (no edges other than self-loops)")
	}
	deg := g.degreeSeq()
	slices.Sort(deg)
	r := Report{
		Nodes:      g.n(),
		Edges:      len(g.edges),
		Kmax:       deg[len(deg)-1],
		MeanDegree: 2 * float64(len(g.edges)) / float64(g.n()),
	}
	r.Degeneracy, r.KCoreLayers = g.kcore()
	r.RichClub = g.richClub(DefaultRewires, opts.Seed)
	if r.RichClub == nil {
		r.RichClub = []RichClub{}
	}
	r.Assortativity = g.assortativity()
	r.Clustering = g.avgClustering()

	fit, err := fitSorted(deg)
	if err != nil {
		r.Verdict = VerdictNotPowerLaw
		return r, fmt.Errorf("analysis: degree distribution: %w", err)
	}
	r.Alpha, r.Xmin, r.NTail, r.KS, r.TailDecades = fit.Alpha, fit.Xmin, fit.NTail, fit.KS, fit.TailDecades
	ciReps := min(opts.bootstrap(), MaxAlphaBootstrap)
	prog := &progressFn{total: opts.bootstrap() + ciReps, fn: opts.Progress}
	r.GofP, err = goodnessOfFit(deg, fit, opts, prog)
	if err != nil {
		return r, fmt.Errorf("analysis: goodness of fit: %w", err)
	}
	r.AlphaCI = alphaCI(deg, ciReps, opts, prog)
	r.LRExponential = CompareExponential(deg, fit)
	r.LRLognormal = CompareLognormal(deg, fit)
	r.sanitise()
	r.Verdict = Verdict(r)
	return r, nil
}

// Verdict applies the rule of the testnet report to r:
//
//   - "power law" when the power law is not rejected (GofP ≥ 0.1), beats
//     the exponential (LRExponential.R > 0 with P < 0.1), 2 < Alpha < 3 and
//     NTail ≥ 50;
//   - otherwise "heavy-tailed, power law not rejected" when the exponential
//     is beaten (LRExponential.R > 0 with P < 0.1) and either the power law
//     is not rejected (GofP ≥ 0.1) or the lognormal comparison is
//     inconclusive (LRLognormal.P ≥ 0.1), i.e. the lognormal is not ruled
//     out;
//   - otherwise "not power law".
//
// It reads only GofP, LRExponential, LRLognormal, Alpha and NTail.
func Verdict(r Report) string {
	beatsExp := r.LRExponential.R > 0 && r.LRExponential.P < 0.1
	switch {
	case r.GofP >= 0.1 && beatsExp && r.Alpha > 2 && r.Alpha < 3 && r.NTail >= 50:
		return VerdictPowerLaw
	case beatsExp && (r.GofP >= 0.1 || r.LRLognormal.P >= 0.1):
		return VerdictHeavyTailed
	default:
		return VerdictNotPowerLaw
	}
}

// sanitise replaces any non-finite float with 0 so the report always
// encodes as JSON. The computations above are written not to produce one;
// this is the last line of defence.
func (r *Report) sanitise() {
	fix := func(x *float64) {
		if math.IsNaN(*x) || math.IsInf(*x, 0) {
			*x = 0
		}
	}
	for _, p := range []*float64{&r.MeanDegree, &r.Alpha, &r.AlphaCI[0], &r.AlphaCI[1], &r.TailDecades,
		&r.KS, &r.GofP, &r.LRExponential.R, &r.LRExponential.P, &r.LRLognormal.R, &r.LRLognormal.P,
		&r.Assortativity, &r.Clustering} {
		fix(p)
	}
	for i := range r.RichClub {
		fix(&r.RichClub[i].Phi)
		fix(&r.RichClub[i].PhiRandom)
		fix(&r.RichClub[i].Rho)
	}
}
