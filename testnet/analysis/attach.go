package analysis

import (
	"fmt"
	"math"
	"runtime"
	"slices"
)

// DefaultAttachmentBootstrap is the number of resamples AttachmentExponent
// uses when asked for 0 or fewer.
const DefaultAttachmentBootstrap = 1000

// Attachment is the measured preferential-attachment exponent: between two
// snapshots a node of degree k gained edges at a rate ∝ k^Beta (Beta = 1 is
// linear preferential attachment as in Barabási–Albert, 0 is uniform). CI
// is the 95% percentile-bootstrap interval over nodes; Nodes is how many
// nodes the fit used.
type Attachment struct {
	Beta  float64    `json:"beta"`
	CI    [2]float64 `json:"ci"`
	Nodes int        `json:"nodes"`
}

// AttachmentExponent measures preferential attachment from two degree
// snapshots. Every node with degree k ≥ 1 in prev that is still present in
// next contributes gained = next - prev, clipped at 0 (a lost edge is not
// negative attachment); nodes new in next and nodes that left are skipped.
// Beta is the slope of a Poisson regression (log link, with intercept) of
// gained on ln k, i.e. the maximum-likelihood fit of
// E[gained] = c·k^Beta; it stays consistent when gains are overdispersed,
// which is why the interval comes from a bootstrap that resamples nodes
// with replacement (`bootstrap` times; DefaultAttachmentBootstrap when ≤ 0)
// rather than from the Poisson standard error. seed makes it
// deterministic. It returns ErrTooFew when fewer than two distinct degrees
// are usable or no node gained anything.
func AttachmentExponent(prev, next map[int64]int, bootstrap int, seed uint64) (Attachment, error) {
	cov, gain := map[int64]int{}, map[int64]int{}
	for id, k := range prev {
		if n, ok := next[id]; ok && k >= 1 {
			cov[id], gain[id] = k, max(0, n-k)
		}
	}
	a, err := fitAttachment(cov, gain, bootstrap, seed)
	if err != nil {
		return a, fmt.Errorf("%w: attachment needs gains and two distinct degrees (%s)", ErrTooFew, err)
	}
	return a, nil
}

// ScoreAttachmentExponent measures attachment driven by a score instead of
// the degree: every node with score s ≥ 1 (its Polo when prev was taken)
// that is present in both degree snapshots contributes gained = next −
// prev (clipped at 0), and Beta is the Poisson-regression slope of gained
// on ln s, E[gained] = c·s^Beta, with the same node bootstrap as
// AttachmentExponent. It returns ErrTooFew when fewer than two distinct
// scores are usable or no node gained anything.
func ScoreAttachmentExponent(score, prev, next map[int64]int, bootstrap int, seed uint64) (Attachment, error) {
	cov, gain := map[int64]int{}, map[int64]int{}
	for id, s := range score {
		k, ok1 := prev[id]
		n, ok2 := next[id]
		if ok1 && ok2 && s >= 1 {
			cov[id], gain[id] = s, max(0, n-k)
		}
	}
	a, err := fitAttachment(cov, gain, bootstrap, seed)
	if err != nil {
		return a, fmt.Errorf("%w: score attachment needs gains and two distinct scores (%s)", ErrTooFew, err)
	}
	return a, nil
}

// fitAttachment fits E[gain] = c·cov^Beta by Poisson regression on
// ln cov (every cov ≥ 1) and bootstraps the slope over nodes.
func fitAttachment(cov, gain map[int64]int, bootstrap int, seed uint64) (Attachment, error) {
	ids := make([]int64, 0, len(cov))
	for id := range cov {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	// Distinct covariates, and for each node the index of its covariate
	// and its gain.
	var ks []int
	for _, id := range ids {
		ks = append(ks, cov[id])
	}
	slices.Sort(ks)
	ks = slices.Compact(ks)
	kIdx := make([]int, len(ids))
	gains := make([]int, len(ids))
	for i, id := range ids {
		kIdx[i], _ = slices.BinarySearch(ks, cov[id])
		gains[i] = gain[id]
	}
	lnk := make([]float64, len(ks))
	for i, k := range ks {
		lnk[i] = math.Log(float64(k))
	}
	counts := func(pick func(j int) int) (n, g []float64) {
		n, g = make([]float64, len(ks)), make([]float64, len(ks))
		for j := range ids {
			i := pick(j)
			n[kIdx[i]]++
			g[kIdx[i]] += float64(gains[i])
		}
		return n, g
	}
	n, g := counts(func(j int) int { return j })
	beta, ok := poissonSlope(lnk, n, g)
	if !ok {
		return Attachment{Nodes: len(ids)}, fmt.Errorf("%d nodes, %d distinct values", len(ids), len(ks))
	}
	if bootstrap <= 0 {
		bootstrap = DefaultAttachmentBootstrap
	}
	betas := make([]float64, bootstrap)
	runParallel(bootstrap, runtime.GOMAXPROCS(0), nil, func(r int) {
		rng := newRand(seed, domainAttach, uint64(r))
		n, g := counts(func(int) int { return rng.IntN(len(ids)) })
		b, ok := poissonSlope(lnk, n, g)
		if !ok {
			b = math.NaN()
		}
		betas[r] = b
	})
	return Attachment{Beta: beta, CI: percentiles(betas, 0.025, 0.975), Nodes: len(ids)}, nil
}

// poissonSlope fits g_i ~ Poisson(n_i·exp(a + b·x_i)) (n_i nodes with
// covariate x_i gained g_i in total) by Newton's method with step halving
// and returns b. ok is false when the MLE does not exist or is not finite.
func poissonSlope(x, n, g []float64) (b float64, ok bool) {
	var sn, sg, sx float64
	used := 0
	for i := range x {
		if n[i] > 0 {
			used++
			sn += n[i]
			sg += g[i]
			sx += n[i] * x[i]
		}
	}
	if used < 2 || sg == 0 {
		return 0, false
	}
	xbar := sx / sn // centre x so that a and b are nearly orthogonal
	ll := func(a, b float64) float64 {
		var s float64
		for i := range x {
			if n[i] > 0 {
				eta := a + b*(x[i]-xbar)
				s += g[i]*eta - n[i]*math.Exp(eta)
			}
		}
		return s
	}
	a := math.Log(sg / sn)
	cur := ll(a, b)
	for iter := 0; iter < 100; iter++ {
		var ua, ub, iaa, iab, ibb float64
		for i := range x {
			if n[i] == 0 {
				continue
			}
			d := x[i] - xbar
			mu := n[i] * math.Exp(a+b*d)
			ua += g[i] - mu
			ub += d * (g[i] - mu)
			iaa += mu
			iab += mu * d
			ibb += mu * d * d
		}
		det := iaa*ibb - iab*iab
		if !(det > 0) {
			return 0, false
		}
		da := (ibb*ua - iab*ub) / det
		db := (iaa*ub - iab*ua) / det
		step := 1.0
		for ; step > 1e-10; step /= 2 {
			if next := ll(a+step*da, b+step*db); next >= cur {
				a, b, cur = a+step*da, b+step*db, next
				break
			}
		}
		if step <= 1e-10 || math.Abs(db) < 1e-10 && math.Abs(da) < 1e-10 {
			break
		}
	}
	if math.IsNaN(b) || math.IsInf(b, 0) || math.Abs(b) > 50 {
		return 0, false
	}
	return b, true
}
