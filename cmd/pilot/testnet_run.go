package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	logging "github.com/ipfs/go-log/v2"
	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/testnet/harness"
)

// testnetLog is the log file `pilot testnet run` writes in its report
// folder (unless GOLOG_LOG_LEVEL sends logs elsewhere).
const testnetLog = "testnet.log"

// newTestnetRunCmd is `pilot testnet run`: N real nodes and an agent
// workload in this process (testnet/harness), then a report folder.
func newTestnetRunCmd(a *app) *cobra.Command {
	var (
		nodes, bootstrap, concurrency, dhtServers int
		seed                                      uint64
		duration                                  time.Duration
		selection, out                            string
		churn, sybil                              float64
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run N real nodes and an agent workload in this process, and write a report folder",
		Long: `Start --nodes real Pilot nodes in this process (the node package: go-libp2p
with QUIC on 127.0.0.1, in-memory stores, each joining through three random
earlier DHT servers; --dht-servers nodes run the DHT as servers, the rest as
clients), wait until they have published their profiles, and drive an
agent workload for --duration. Every agent has a hidden quality and 1-3
capability tags it publishes; --concurrency agents at a time need a task
with a tag, find its providers through the DHT, choose a worker
(--selection: reputation = node.Choose on their own Polo view with 10 %
exploration, random = uniformly, shuffled = Polo scores permuted among the
candidates), submit the task (port 1003), wait for it and attest the
outcome. The task rate is what the network sustains; the report measures it.

--sybil makes a fraction of the agents a Sybil collective (low quality,
popular tags, fake tasks among themselves); the report gives the share of
honest tasks routed to Sybils. --churn closes and restarts that fraction of
the nodes every minute.

The report folder (--out) holds report.json (also printed with --json),
report.md, edges.csv (the final partner graph, for pilot testnet analyze),
agents.csv, the PNG plots degree_ccdf, alpha_over_time, polo_vs_degree,
kcore_layers and attachment, and testnet.log (the nodes' errors;
GOLOG_LOG_LEVEL sends logs to stderr instead). The degree distribution is
fitted the Clauset-Shalizi-Newman way (see pilot testnet analyze), and
preferential attachment is measured against degree and against Polo.
SIGINT stops the run early: the nodes close and a partial report is
written; a second SIGINT kills the process.

A thousand nodes need about 2 CPU cores and 10 GiB of memory. Progress goes
to stderr (not with --json). See docs/testnet.md.`,
		Example: "  pilot testnet run --nodes 200 --seed 1 --duration 5m --out /tmp/tn200\n" +
			"  pilot testnet run --nodes 1000 --seed 1 --selection random --json\n" +
			"  pilot testnet run --nodes 300 --sybil 0.1 --churn 0.02 --duration 10m",
		Annotations: map[string]string{
			annOutput:      fieldList(harness.Report{}),
			annLongRunning: "true",
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			sel := harness.Selection(selection)
			switch {
			case nodes < harness.MinNodes:
				return usageError(cmd, "--nodes %d: at least %d", nodes, harness.MinNodes)
			case duration <= 0:
				return usageError(cmd, "--duration must be positive (like 10m)")
			case !sel.Valid():
				return usageError(cmd, "--selection is reputation, random or shuffled, not %q", selection)
			case churn < 0 || churn > 1:
				return usageError(cmd, "--churn %g: a fraction of the nodes per minute, 0..1", churn)
			case sybil < 0 || sybil > 0.5:
				return usageError(cmd, "--sybil %g: a fraction of the agents, 0..0.5", sybil)
			case concurrency < 0 || bootstrap < 0:
				return usageError(cmd, "--concurrency and --bootstrap must not be negative")
			}
			if out == "" {
				out = fmt.Sprintf("testnet-%d-%s", seed, sel)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return localapi.Errorf(localapi.CodeInvalidArgument, "pass a writable --out folder", "testnet run: %v", err)
			}
			logged := routeTestnetLogs(filepath.Join(out, testnetLog))

			ctx, stop := signalContext(cmd.Context())
			defer stop()
			context.AfterFunc(ctx, stop) // a second signal kills the process the default way

			var progress io.Writer
			if !a.json() { // with --json stderr carries errors only
				progress = a.stderr
			}
			rep, err := harness.Run(ctx, harness.Config{
				Nodes: nodes, Seed: seed, Duration: duration, Selection: sel, Churn: churn, Sybil: sybil,
				OutDir: out, Progress: progress, Terminal: isCharDevice(a.stderr),
				Concurrency: concurrency, Bootstrap: bootstrap, DHTServers: dhtServers,
			})
			switch {
			case errors.Is(err, harness.ErrConfig):
				return localapi.Errorf(localapi.CodeInvalidArgument, "check the flags and that --out is writable", "testnet run: %v", err)
			case err != nil && rep == nil:
				return localapi.Errorf(localapi.CodeInternal, "see "+filepath.Join(out, testnetLog)+" for the nodes' errors", "testnet run: %v", err)
			case err != nil:
				return localapi.Errorf(localapi.CodeInternal, "the run finished but its report folder is incomplete; check --out", "testnet run: %v", err)
			}
			if logged {
				rep.Files = append(rep.Files, testnetLog)
			}
			return a.emit(rep, func(w io.Writer) { writeTestnetRun(w, rep) })
		}),
	}
	f := cmd.Flags()
	f.IntVar(&nodes, "nodes", 100, "number of nodes (one agent each)")
	f.Uint64Var(&seed, "seed", 1, "seed of the agents' choices, identities and task outcomes")
	f.DurationVar(&duration, "duration", 10*time.Minute, "length of the workload, after start-up")
	f.StringVar(&selection, "selection", string(harness.SelectReputation), "how agents choose a worker: reputation, random or shuffled")
	f.Float64Var(&churn, "churn", 0, "fraction of the nodes closed and restarted per minute")
	f.Float64Var(&sybil, "sybil", 0, "fraction of the agents in a Sybil collective")
	f.StringVar(&out, "out", "", "report folder (default ./testnet-<seed>-<selection>)")
	f.IntVar(&concurrency, "concurrency", 0, "agents acting at once in the whole network (default 16); the task rate is what the network sustains")
	f.IntVar(&dhtServers, "dht-servers", 0, "nodes that run the DHT as servers; the rest are DHT clients (default a fiftieth, at least 20)")
	f.IntVar(&bootstrap, "bootstrap", 0, "bootstrap replicates of the power-law goodness-of-fit test (default 2500)")
	return cmd
}

// routeTestnetLogs sends the nodes' logs (go-log, and slog's default,
// which the task service uses) at level error to path, unless
// GOLOG_LOG_LEVEL asks for something else; it reports whether it did. A
// thousand nodes' warnings would bury the progress bar.
func routeTestnetLogs(path string) bool {
	slog.SetDefault(slog.New(logging.SlogHandler()))
	if os.Getenv("GOLOG_LOG_LEVEL") != "" {
		return false
	}
	logging.SetupLogging(logging.Config{Format: logging.PlaintextOutput, Level: logging.LevelError, File: path})
	return true
}

// writeTestnetRun is the text summary of a run.
func writeTestnetRun(w io.Writer, r *harness.Report) {
	p, t, m, c := r.Parameters, r.Tasks, r.Memory.AtEnd, r.Connections
	if r.Interrupted {
		fmt.Fprintln(w, "INTERRUPTED: partial report")
	}
	fmt.Fprintf(w, "testnet: %d nodes, seed %d, %s selection; workload %s (start-up %s, total %s)\n",
		p.Nodes, p.Seed, p.Selection, secondsText(r.Timings.RunSeconds), secondsText(r.Timings.StartupSeconds), secondsText(r.Timings.TotalSeconds))
	fmt.Fprintf(w, "tasks:   %d completed (%d succeeded, %d failed), %.2f/s, median %.2f s\n",
		t.Total, t.Succeeded, t.Failed, t.PerSecond, t.LatencyP50)
	fmt.Fprintf(w, "memory:  %.2f MiB heap, %.2f MiB from the OS per node; %.1f connections per node\n",
		m.HeapAllocPerNodeMiB, m.SysPerNodeMiB, c.PerNodeMean)
	g := r.PartnerGraph
	verdict := g.Verdict
	if r.PartnerGraphError != "" {
		verdict += " (" + r.PartnerGraphError + ")"
	}
	fmt.Fprintf(w, "partner graph: %d nodes, %d edges, kmax %d; alpha %.2f [%.2f, %.2f], xmin %d, n_tail %d, gof p %.2f: %s\n",
		g.Nodes, g.Edges, g.Kmax, g.Alpha, g.AlphaCI[0], g.AlphaCI[1], g.Xmin, g.NTail, g.GofP, verdict)
	if at := r.Attachment; at.Error == "" {
		fmt.Fprintf(w, "attachment: beta %.2f [%.2f, %.2f] over %d nodes\n", at.Beta, at.CI[0], at.CI[1], at.Nodes)
	}
	if p.Sybil > 0 {
		fmt.Fprintf(w, "sybil:   %.1f %% of honest tasks went to Sybils (%d of %d)\n", 100*r.Sybil.Share, r.Sybil.ToSybil, r.Sybil.HonestTasks)
	}
	if p.Churn > 0 {
		fmt.Fprintf(w, "churn:   %d nodes closed, %d restarted\n", r.Churn.Events, r.Churn.Restarts)
	}
	fmt.Fprintf(w, "report:  %s (%s)\n", p.OutDir, strings.Join(r.Files, ", "))
}

// secondsText renders seconds as a rounded duration.
func secondsText(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
