package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/testnet/analysis"
)

func newTestnetAnalyzeCmd(a *app) *cobra.Command {
	var edgesPath string
	var bootstrap int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "analyze",
		Short: "Fit a graph's degree distribution the Clauset-Shalizi-Newman way, with a verdict",
		Long: `Read an undirected edge list (one "u v" pair of integers a line; '#'
comments) and report: the discrete power-law fit (alpha by maximum likelihood,
xmin by minimum KS distance, a bootstrap confidence interval), the
goodness-of-fit p-value by semi-parametric bootstrap, likelihood-ratio
(Vuong) tests against the exponential and the lognormal, tail size and span
in decades, k-core layers, the rich-club coefficient against degree-
preserving rewiring, degree assortativity and clustering. The verdict
follows the numbers: "power law" only when gof_p >= 0.1, the exponential is
rejected (R > 0, p < 0.1), 2 < alpha < 3 and the tail has at least 50
points; "heavy-tailed, power law not rejected" when the lognormal is not
ruled out; otherwise "not power law". Progress goes to stderr (not with --json).`,
		Example: "  pilot testnet analyze --edges report/edges.csv\n  pilot testnet analyze --edges graph.txt --bootstrap 500 --json",
		Annotations: map[string]string{
			annOutput:      fieldList(analysis.Report{}),
			annLongRunning: "true",
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if edgesPath == "" {
				return usageError(cmd, "--edges FILE is required")
			}
			if bootstrap < 0 {
				return usageError(cmd, "--bootstrap %d: want 0 (the default) or more", bootstrap)
			}
			f, err := os.Open(edgesPath)
			if err != nil {
				return usageError(cmd, "--edges: %v", err)
			}
			edges, err := analysis.ReadEdges(f)
			f.Close()
			if err != nil {
				return localapi.Errorf(localapi.CodeInvalidArgument, "one \"u v\" pair of integers a line; '#' starts a comment", "%s: %v", edgesPath, err)
			}
			if len(edges) == 0 {
				return localapi.Errorf(localapi.CodeInvalidArgument, "give a file with at least one edge", "%s has no edges", edgesPath)
			}
			bar := newProgressBar(a.stderr, "bootstrap")
			bar.quiet = a.json() // with --json stderr carries errors only
			rep, err := analysis.Analyze(edges, analysis.Options{Bootstrap: bootstrap, Seed: seed, Progress: bar.update})
			bar.done()
			if err != nil {
				return localapi.Errorf(localapi.CodeInvalidArgument, "the graph may be too small or too regular to fit", "analyze %s: %v", edgesPath, err)
			}
			return a.emit(rep, func(w io.Writer) { writeAnalysis(w, rep) })
		}),
	}
	f := cmd.Flags()
	f.StringVar(&edgesPath, "edges", "", "edge list file, one \"u v\" pair a line (required)")
	f.IntVar(&bootstrap, "bootstrap", 0, "synthetic data sets for the goodness-of-fit p-value (0: the default, enough for ±0.01)")
	f.Uint64Var(&seed, "seed", 1, "seed of the bootstrap")
	return cmd
}

func writeAnalysis(w io.Writer, r analysis.Report) {
	layers := make([]string, 0, len(r.KCoreLayers))
	for k, n := range r.KCoreLayers {
		if n > 0 {
			layers = append(layers, fmt.Sprintf("%d:%d", k, n))
		}
	}
	writeKV(w, []kv{
		{"nodes", r.Nodes}, {"edges", r.Edges}, {"kmax", r.Kmax}, {"mean_degree", fmt.Sprintf("%.2f", r.MeanDegree)},
		{"alpha", fmt.Sprintf("%.3f (95%% CI %.3f–%.3f)", r.Alpha, r.AlphaCI[0], r.AlphaCI[1])},
		{"xmin", r.Xmin}, {"n_tail", r.NTail}, {"tail_decades", fmt.Sprintf("%.2f", r.TailDecades)},
		{"ks", fmt.Sprintf("%.4f", r.KS)}, {"gof_p", fmt.Sprintf("%.3f", r.GofP)},
		{"lr_exponential", fmt.Sprintf("R %.2f, p %.3g", r.LRExponential.R, r.LRExponential.P)},
		{"lr_lognormal", fmt.Sprintf("R %.2f, p %.3g", r.LRLognormal.R, r.LRLognormal.P)},
		{"degeneracy", r.Degeneracy}, {"kcore_layers", strings.Join(layers, " ")},
		{"assortativity", fmt.Sprintf("%.3f", r.Assortativity)}, {"clustering", fmt.Sprintf("%.3f", r.Clustering)},
		{"verdict", r.Verdict},
	})
}

// progressBar redraws "label [#####-----] done/total" on a terminal, or
// prints a line at most every 5 s elsewhere.
type progressBar struct {
	w     io.Writer
	label string
	tty   bool
	mu    sync.Mutex
	last  time.Time
	drawn bool
	quiet bool
}

func newProgressBar(w io.Writer, label string) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, label: label, tty: tty}
}

func (p *progressBar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet {
		return
	}
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if total <= 0 || (done < total && time.Since(p.last) < every) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := width * done / total
	line := fmt.Sprintf("%s [%s%s] %d/%d", p.label, strings.Repeat("#", fill), strings.Repeat("-", width-fill), done, total)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.drawn = true
}

func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}
