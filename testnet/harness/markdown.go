package harness

import (
	"bufio"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pilot-agents/pilot/testnet/analysis"
)

// writeMarkdown writes the human summary of rep, with the plots embedded.
func writeMarkdown(w *bufio.Writer, rep *Report) error {
	p := rep.Parameters
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	pf("# Pilot testnet: %d nodes, seed %d, %s selection\n\n", p.Nodes, p.Seed, p.Selection)
	if rep.Interrupted {
		pf("**Interrupted** (SIGINT): the figures cover the %s that ran.\n\n", secs(rep.Timings.RunSeconds))
	}
	pf("Real Pilot nodes (the `node` package, go-libp2p on loopback TCP, in-memory stores) in one process, "+
		"started %s, %s, GOMAXPROCS %d. Each agent finds workers by capability tag through the DHT, "+
		"chooses one (%s), submits a task and attests the outcome as Polo.\n\n",
		rep.Timings.StartedAt.Format(time.RFC3339), p.GoVersion, p.GoMaxProcs, armText(p.Selection, p.Explore))

	t := rep.Tasks
	m := rep.Memory.AtEnd
	c := rep.Connections
	pf("| | |\n|---|---|\n")
	pf("| nodes | %d, started in %s |\n", p.Nodes, secs(rep.Timings.StartupSeconds))
	pf("| timings | workload %s (drain %s), shutdown %s, analysis %s; total %s |\n", secs(rep.Timings.RunSeconds),
		secs(rep.Timings.DrainSeconds), secs(rep.Timings.ShutdownSeconds), secs(rep.Timings.AnalysisSeconds), secs(rep.Timings.TotalSeconds))
	pf("| tasks | %d completed (%d succeeded, %d failed: %.0f %% success), **%.2f tasks/s**; a task takes %.2f s (median; 90th percentile %.2f s) once its worker is reached, in %.2f s (%.2f s) |\n",
		t.Total, t.Succeeded, t.Failed, 100*t.SuccessRate, t.PerSecond, t.LatencyP50, t.LatencyP90, t.ConnectP50, t.ConnectP90)
	pf("| actions | %d (per agent: min %d, median %d, max %d); outcomes: %s |\n", t.Actions, t.ActsMin, t.ActsMedian, t.ActsMax, outcomes(t.Outcomes))
	pf("| concurrency | %d agents acting at once |\n", p.Concurrency)
	pf("| memory | %.2f MiB heap and %.2f MiB from the OS per node (after GC, end of run; %.0f / %.0f MiB in all); %.0f goroutines per node |\n",
		m.HeapAllocPerNodeMiB, m.SysPerNodeMiB, m.HeapAllocMiB, m.SysMiB, m.GoroutinesPerNode)
	pf("| connections | %.1f per node at the end (max %d; mean over the run %.1f); connection manager water marks %d/%d |\n",
		c.PerNodeMean, c.PerNodeMax, c.PerNodeMeanRun, c.Low, c.High)
	f := rep.Finds
	pf("| tag lookups | %d provider searches (node.FindProviders, mean %.2f s), %d answered from the agent's cache, %d failed |\n",
		f.Own, f.MeanOwnSeconds, f.Cached, f.Failed)
	if p.Churn > 0 {
		ch := rep.Churn
		pf("| churn | %.3g of the nodes per minute: %d closed, %d restarted (%d failed), %.1f s down on average |\n",
			p.Churn, ch.Events, ch.Restarts, ch.RestartFailures, ch.DowntimeSeconds)
	}
	if p.Sybil > 0 {
		s := rep.Sybil
		pf("| Sybils | %d agents (%.0f %%); **%.1f %% of honest tasks went to Sybils** (%d of %d); %d fake tasks among themselves |\n",
			s.Agents, 100*p.Sybil, 100*s.Share, s.ToSybil, s.HonestTasks, s.FakeTasks)
	}
	pf("\n")

	pf("## Partner graph\n\nAn edge joins a requester and a worker that completed (succeeded or failed) at least one task.\n\n")
	graph(w, rep.PartnerGraph, rep.PartnerGraphError)
	pf("![degree CCDF](%s)\n\n", FileCCDF)

	pf("## α over time\n\nThe discrete power-law fit (CSN: MLE, KS-chosen xmin) of the partner degrees at each snapshot, ± one standard error.\n\n")
	pf("| minute | tasks | nodes | edges | kmax | α | xmin | n_tail | conns/node | Sybil share |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range rep.AlphaOverTime {
		alpha := "—"
		if s.Error == "" {
			alpha = fmt.Sprintf("%.2f ± %.2f", s.Alpha, s.Hi-s.Alpha)
		}
		pf("| %.1f | %d | %d | %d | %d | %s | %d | %d | %.1f | %.3f |\n", s.Minutes, s.Tasks, s.Nodes, s.Edges, s.Kmax, alpha, s.Xmin, s.NTail, s.ConnsPerNode, s.SybilShare)
	}
	pf("\n![alpha over time](%s)\n\n", FileAlpha)

	a := rep.Attachment
	pf("## Preferential attachment\n\n")
	if a.Error != "" {
		pf("Not measured between minute %.1f and %.1f: %s.\n\n", a.FromMinutes, a.ToMinutes, a.Error)
	} else {
		pf("Between minute %.1f and %.1f a node of degree k gained new partners at a rate ∝ k^β with **β = %.2f** (95 %% CI %.2f to %.2f, %d nodes; 1 is linear preferential attachment, 0 none).\n\n",
			a.FromMinutes, a.ToMinutes, a.Beta, a.CI[0], a.CI[1], a.Nodes)
	}
	if p := a.Polo; p.Error != "" {
		pf("Against Polo: not measured: %s.\n\n", p.Error)
	} else {
		pf("Against reputation: a node with Polo s (the observers' mean view at minute %.1f) gained new partners at a rate ∝ s^β with **β = %.2f** (95 %% CI %.2f to %.2f, %d nodes with Polo ≥ 1).\n\n",
			a.FromMinutes, p.Beta, p.CI[0], p.CI[1], p.Nodes)
	}
	pf("![attachment](%s)\n\n", FileAttachment)

	po := rep.Polo
	pf("## Polo versus degree\n\n")
	if len(po.Observers) > 0 {
		pf("Mean Polo in the views of %d honest observers (agents %v): honest agents %.0f, Sybils %.0f. Spearman correlation of Polo with partner degree %.2f, with hidden quality (honest agents) %.2f. An observer holds %.0f attestations on average (%.0f %% of the completed tasks).\n\n",
			len(po.Observers), po.Observers, po.MeanHonest, po.MeanSybil, po.SpearmanDegree, po.SpearmanQuality, po.Attestations, 100*po.Coverage)
	}
	pf("![Polo vs degree](%s)\n\n", FilePolo)
	pf("## k-core layers\n\n![k-core layers](%s)\n\n", FileKCore)

	pf("## Connection graph\n\nThe live host connections at the end (bounded by the connection manager's water marks, so not a freely growing graph).\n\n")
	graph(w, rep.ConnectionGraph, rep.ConnectionGraphError)

	if len(rep.Throughput) > 0 {
		pf("## Throughput\n\n| minute | tasks/s | CPU | median task s | median connect s | in flight |\n|---|---|---|---|---|---|\n")
		for _, s := range rep.Throughput {
			pf("| %.1f | %.2f | %s | %.2f | %.2f | %d |\n", s.Minutes, s.TasksPerSecond, pct(s.CPU), s.P50, s.Connect, s.Inflight)
		}
		pf("\n")
	}
	if len(rep.Notes) > 0 {
		pf("## Notes\n\n")
		for _, n := range rep.Notes {
			pf("- %s\n", n)
		}
		pf("\n")
	}
	pf("Files: %s.\n", strings.Join(rep.Files, ", "))
	return w.Flush()
}

// graph writes the analysis of one graph.
func graph(w *bufio.Writer, g analysis.Report, errText string) {
	pf := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if g.Nodes == 0 {
		pf("No graph: %s.\n\n", errText)
		return
	}
	pf("%d nodes, %d edges, mean degree %.2f, largest %d.\n\n", g.Nodes, g.Edges, g.MeanDegree, g.Kmax)
	if errText != "" {
		pf("Power-law fit: %s. **Verdict: %s**.\n\n", errText, g.Verdict)
	} else {
		pf("**Verdict: %s.** α = %.2f (95 %% bootstrap CI %.2f to %.2f) for k ≥ xmin = %d (%d nodes in the tail, %.2f decades); KS distance %.3f, goodness-of-fit p = %.2f (≤ 0.1 rejects the power law). Likelihood ratio against an exponential R = %.2f (p = %.2f), against a lognormal R = %.2f (p = %.2f); R > 0 favours the power law.\n\n",
			g.Verdict, g.Alpha, g.AlphaCI[0], g.AlphaCI[1], g.Xmin, g.NTail, g.TailDecades, g.KS, g.GofP,
			g.LRExponential.R, g.LRExponential.P, g.LRLognormal.R, g.LRLognormal.P)
	}
	pf("Degeneracy %d (k-core shells %v); degree assortativity %.3f; average clustering %.3f.", g.Degeneracy, g.KCoreLayers, g.Assortativity, g.Clustering)
	if len(g.RichClub) > 0 {
		top := g.RichClub[len(g.RichClub)-1]
		pf(" Rich club at k > %d: φ = %.3f vs %.3f rewired (ρ = %.2f).", top.K, top.Phi, top.PhiRandom, top.Rho)
	}
	pf("\n\n")
}

func armText(sel string, explore float64) string {
	switch Selection(sel) {
	case SelectRandom:
		return "uniformly at random: the reputation-blind control"
	case SelectShuffled:
		return fmt.Sprintf("by Polo scores shuffled among the candidates, %.0f %% exploration: the identity-blind control", 100*explore)
	}
	return fmt.Sprintf("by the requester's own Polo view, node.Choose, %.0f %% exploration", 100*explore)
}

func outcomes(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func secs(s float64) string { return clock(time.Duration(s * float64(time.Second))) }

func pct(f float64) string {
	if f < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f %%", 100*f)
}
