package harness

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/pilot-agents/pilot/testnet/analysis"
)

// intervalBootstrap is the resample count of the per-interval attachment
// exponents (the overall one uses the analysis package's default).
const intervalBootstrap = 200

// analyse fills the report from what the run recorded.
func (r *run) analyse(edges, connEdges []analysis.Edge, connCounts []int, polo poloView) {
	rep := r.rep
	r.summarise(connCounts)

	opts := analysis.Options{Bootstrap: r.cfg.Bootstrap, Seed: r.cfg.Seed}
	progress := func(what string) func(done, total int) {
		return func(done, total int) {
			r.prog.show(done == total, "analyse", float64(done), float64(total), fmt.Sprintf("%s: bootstrap %d/%d", what, done, total))
		}
	}
	var err error
	opts.Progress = progress("partner graph")
	if rep.PartnerGraph, err = analysis.Analyze(edges, opts); err != nil {
		rep.PartnerGraphError = err.Error()
	}
	r.prog.end()
	opts.Progress = progress("connection graph")
	if rep.ConnectionGraph, err = analysis.Analyze(connEdges, opts); err != nil {
		rep.ConnectionGraphError = err.Error()
	}
	r.prog.end()
	for _, g := range []*analysis.Report{&rep.PartnerGraph, &rep.ConnectionGraph} {
		if g.KCoreLayers == nil {
			g.KCoreLayers = []int{}
		}
		if g.RichClub == nil {
			g.RichClub = []analysis.RichClub{}
		}
		if g.Verdict == "" {
			g.Verdict = analysis.VerdictNotPowerLaw
		}
	}
	r.attachment()
	r.poloSummary(polo)
}

// summarise fills the counters: tasks, finds, Sybil routing, churn,
// connections, rate history.
func (r *run) summarise(connCounts []int) {
	rep, rec := r.rep, r.rec
	counts := rec.snapshotCounts()
	t := &rep.Tasks
	for o, n := range counts {
		t.Outcomes[string(o)] = n
	}
	t.Succeeded, t.Failed = counts[outcomeSucceeded], counts[outcomeFailed]
	t.Total = t.Succeeded + t.Failed
	if t.Total > 0 {
		t.SuccessRate = float64(t.Succeeded) / float64(t.Total)
	}
	if rep.Timings.RunSeconds > 0 {
		t.PerSecond = float64(t.Total) / rep.Timings.RunSeconds
	}
	acts := make([]int, len(r.wl.agents))
	for i, a := range r.wl.agents {
		acts[i] = int(a.acts.Load())
		t.Actions += acts[i]
	}
	slices.Sort(acts)
	t.ActsMin, t.ActsMedian, t.ActsMax = acts[0], acts[len(acts)/2], acts[len(acts)-1]

	rec.mu.Lock()
	lats, connLats := slices.Clone(rec.lats), slices.Clone(rec.connLats)
	rep.Finds = Finds{Own: rec.finds[findOwn], Cached: rec.finds[findCached], Failed: rec.finds[findFailed]}
	if n := rep.Finds.Own + rep.Finds.Failed; n > 0 {
		rep.Finds.MeanOwnSeconds = rec.findTime.Seconds() / float64(n)
	}
	honest, fakes := rec.honest, rec.fakes
	rec.mu.Unlock()
	t.LatencyP50, t.LatencyP90 = quantile(lats, 0.5).Seconds(), quantile(lats, 0.9).Seconds()
	t.ConnectP50, t.ConnectP90 = quantile(connLats, 0.5).Seconds(), quantile(connLats, 0.9).Seconds()

	s := &rep.Sybil
	for _, a := range r.wl.agents {
		if a.sybil {
			s.Agents++
		}
	}
	s.HonestTasks, s.ToSybil, s.FakeTasks = honest.Honest, honest.ToSybil, fakes
	if honest.Honest > 0 {
		s.Share = float64(honest.ToSybil) / float64(honest.Honest)
	}
	for _, a := range rep.AlphaOverTime {
		s.ShareOverTime = append(s.ShareOverTime, a.SybilShare)
	}

	rep.Churn.Events, rep.Churn.Restarts, rep.Churn.RestartFailures =
		int(r.churnEvents.Load()), int(r.churnRestarts.Load()), int(r.churnFailures.Load())
	if rep.Churn.Restarts > 0 {
		rep.Churn.DowntimeSeconds = time.Duration(r.churnDown.Load() / int64(rep.Churn.Restarts)).Seconds()
	}

	c := &rep.Connections
	total := 0
	for _, n := range connCounts {
		total += n
		c.PerNodeMax = max(c.PerNodeMax, n)
	}
	if len(connCounts) > 0 {
		c.PerNodeMean = float64(total) / float64(len(connCounts))
	}
	r.snapMu.Lock()
	if len(r.connRun) > 0 {
		sum := 0.0
		for _, v := range r.connRun {
			sum += v
		}
		c.PerNodeMeanRun = sum / float64(len(r.connRun))
	}
	rep.Throughput = append(rep.Throughput, r.throughput...)
	r.snapMu.Unlock()
}

// attachment measures the preferential-attachment exponent between the
// snapshot nearest the middle of the workload and the last one, and over
// every snapshot interval.
func (r *run) attachment() {
	a := &r.rep.Attachment
	snaps := r.snapshots
	if len(snaps) < 2 {
		a.Error = "fewer than two snapshots"
		return
	}
	last := snaps[len(snaps)-1]
	mid := r.midSnapshot()
	a.FromMinutes, a.ToMinutes = snaps[mid].at.Minutes(), last.at.Minutes()
	got, err := analysis.AttachmentExponent(snaps[mid].degrees, last.degrees, 0, r.cfg.Seed)
	if err != nil {
		a.Error = err.Error()
	}
	a.Beta, a.CI, a.Nodes = got.Beta, got.CI, got.Nodes
	pa, err := analysis.ScoreAttachmentExponent(snaps[mid].polo, snaps[mid].degrees, last.degrees, 0, r.cfg.Seed)
	a.Polo = PoloAttachment{Beta: pa.Beta, CI: pa.CI, Nodes: pa.Nodes}
	if err != nil {
		a.Polo.Error = err.Error()
	}
	for i := 1; i < len(snaps); i++ {
		iv := AttachmentInterval{FromMinutes: snaps[i-1].at.Minutes(), ToMinutes: snaps[i].at.Minutes()}
		got, err := analysis.AttachmentExponent(snaps[i-1].degrees, snaps[i].degrees, intervalBootstrap, r.cfg.Seed+uint64(i))
		if err != nil {
			iv.Error = err.Error()
		}
		iv.Beta, iv.CI, iv.Nodes = got.Beta, got.CI, got.Nodes
		a.Intervals = append(a.Intervals, iv)
	}
}

// midSnapshot is the index of the snapshot (not the last) nearest the
// middle of the workload.
func (r *run) midSnapshot() int {
	snaps := r.snapshots
	half := snaps[len(snaps)-1].at / 2
	mid := 0
	for i, s := range snaps[:len(snaps)-1] {
		if (s.at - half).Abs() < (snaps[mid].at - half).Abs() {
			mid = i
		}
	}
	return mid
}

// attachPoint is one degree class of the attachment plot.
type attachPoint struct {
	Degree int
	Gained float64
}

// attachmentPoints are the mean gains by degree class over the overall
// attachment window.
func (r *run) attachmentPoints() []attachPoint {
	snaps := r.snapshots
	if len(snaps) < 2 {
		return nil
	}
	prev, next := snaps[r.midSnapshot()].degrees, snaps[len(snaps)-1].degrees
	sum, cnt := map[int]float64{}, map[int]int{}
	for id, k := range prev {
		if k < 1 {
			continue
		}
		if n, ok := next[id]; ok {
			sum[k] += float64(max(0, n-k))
			cnt[k]++
		}
	}
	out := make([]attachPoint, 0, len(cnt))
	for k, c := range cnt {
		out = append(out, attachPoint{Degree: k, Gained: sum[k] / float64(c)})
	}
	slices.SortFunc(out, func(a, b attachPoint) int { return a.Degree - b.Degree })
	return out
}

// poloSummary compares the observers' scores with degree and quality.
func (r *run) poloSummary(v poloView) {
	p := &r.rep.Polo
	if v.observers != nil {
		p.Observers = v.observers
	}
	if len(v.observers) == 0 {
		r.note("no observer was running at the end: no Polo scores")
		return
	}
	degs := r.rec.degrees()
	var hs, ss, hn, sn float64
	var polo, deg, hq, hp []float64
	for i, a := range r.wl.agents {
		if a.observer {
			continue
		}
		polo = append(polo, v.mean[i])
		deg = append(deg, float64(degs[i]))
		if a.sybil {
			ss += v.mean[i]
			sn++
		} else {
			hs += v.mean[i]
			hn++
			hq = append(hq, a.quality)
			hp = append(hp, v.mean[i])
		}
	}
	if hn > 0 {
		p.MeanHonest = hs / hn
	}
	if sn > 0 {
		p.MeanSybil = ss / sn
	}
	p.SpearmanDegree = spearman(polo, deg)
	p.SpearmanQuality = spearman(hp, hq)
	p.Attestations = v.held
	if t := r.rep.Tasks.Total; t > 0 {
		p.Coverage = v.held / float64(t)
	}
}

// quantile returns the q-quantile of ds (0 for none).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// spearman is the rank correlation of x and y (ties get their mean rank);
// 0 when it is undefined.
func spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 3 {
		return 0
	}
	rx, ry := ranks(x), ranks(y)
	var mx, my float64
	for i := range rx {
		mx += rx[i]
		my += ry[i]
	}
	mx /= float64(len(rx))
	my /= float64(len(ry))
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// ranks returns the rank (1-based) of each value, ties sharing their mean
// rank.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case v[a] < v[b]:
			return -1
		case v[a] > v[b]:
			return 1
		}
		return 0
	})
	out := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		mean := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			out[idx[k]] = mean
		}
		i = j + 1
	}
	return out
}
