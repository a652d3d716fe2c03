package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/testnet/natlab"
)

// natlabReport is the data of `pilot testnet natlab`.
type natlabReport struct {
	Results []natlab.Result `json:"results"`
	Passed  int             `json:"passed"`
	Failed  int             `json:"failed"`
}

func newTestnetCmd(a *app) *cobra.Command {
	return newGroupCmd(a, "testnet", "Run Pilot experiments: many nodes with an agent workload, the NAT lab, and graph analysis",
		"  pilot testnet run --nodes 1000 --seed 1\n  sudo pilot testnet natlab --json\n  pilot testnet analyze --edges edges.csv",
		newTestnetRunCmd(a), newNatlabCmd(a), newTestnetAnalyzeCmd(a))
}

func newNatlabCmd(a *app) *cobra.Command {
	var scenario, transport string
	var mib int
	cmd := &cobra.Command{
		Use:   "natlab",
		Short: "Run real pilot daemons behind real kernel NATs in network namespaces (needs root)",
		Long: `Build hosts and NAT routers in Linux network namespaces, run this pilot binary
in them (a public anchor, peers B and C behind the scenario's NATs), and
measure: time to first byte over the relay (untrusted), time from trust to a
direct connection, throughput over the relay and on the final path,
whether the bytes arrived intact (sha256), and whether the untrusted peer
saw any non-relay address of the other. Everything the lab creates is
removed afterwards, also on failure or interrupt. See docs/natlab.md and
docs/nat.md.`,
		Example: "  sudo pilot testnet natlab\n  sudo pilot testnet natlab --scenario symmetric --transport tcp --json",
		Annotations: map[string]string{
			annOutput:      fieldList(natlabReport{}),
			annLongRunning: "true",
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			var scs []natlab.Scenario
			for _, sc := range natlab.Scenarios {
				if scenario == "" || scenario == sc.Name {
					scs = append(scs, sc)
				}
			}
			if len(scs) == 0 {
				return usageError(cmd, "unknown scenario %q; known: %s", scenario, scenarioNames())
			}
			if transport != "" && !slices.Contains(natlab.Transports, transport) {
				return usageError(cmd, "--transport is tcp, quic or both, not %q", transport)
			}
			type run struct {
				sc natlab.Scenario
				tr string
			}
			var runs []run
			for _, sc := range scs {
				for _, tr := range natlab.TransportsOf(sc) {
					if transport == "" || transport == tr {
						runs = append(runs, run{sc, tr})
					}
				}
			}
			if len(runs) == 0 {
				return usageError(cmd, "scenario %q does not run over %s", scenario, transport)
			}
			if err := natlab.Check(); err != nil {
				return localapi.Errorf(localapi.CodeInvalidArgument, "run it as root, with iproute2 and nftables installed", "natlab: %v", err)
			}
			bin, err := os.Executable()
			if err != nil {
				return localapi.Errorf(localapi.CodeInternal, "", "natlab: find this binary: %v", err)
			}
			work, err := os.MkdirTemp("", "pilot-natlab-")
			if err != nil {
				return localapi.Errorf(localapi.CodeInternal, "", "natlab: %v", err)
			}
			defer os.RemoveAll(work)
			var rep natlabReport
			total := len(runs)
			for i, r := range runs {
				fmt.Fprintf(a.stderr, "natlab [%d/%d] %s over %s ...\n", i+1, total, r.sc.Name, r.tr)
				res := natlab.Run(cmd.Context(), r.sc, r.tr, natlab.Options{Bin: bin, WorkDir: work, TransferBytes: int64(mib) << 20})
				rep.Results = append(rep.Results, res)
				if res.Pass {
					rep.Passed++
				} else {
					rep.Failed++
				}
			}
			if err := a.emit(rep, func(w io.Writer) { writeNatlab(w, rep) }); err != nil {
				return err
			}
			if rep.Failed > 0 {
				return localapi.Errorf(localapi.CodeInternal, "see each result's error and docs/nat.md", "natlab: %d of %d runs failed", rep.Failed, total)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&scenario, "scenario", "", "run one scenario: "+scenarioNames())
	cmd.Flags().StringVar(&transport, "transport", "", "run one transport: tcp, quic or both (default all three)")
	cmd.Flags().IntVar(&mib, "mib", 16, "MiB carried per transfer")
	return cmd
}

func scenarioNames() string {
	var names []string
	for _, sc := range natlab.Scenarios {
		names = append(names, sc.Name)
	}
	return strings.Join(names, ", ")
}

func writeNatlab(w io.Writer, rep natlabReport) {
	rows := make([][]string, 0, len(rep.Results))
	for _, r := range rep.Results {
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL " + r.Error
		}
		if r.SessionSurvived != nil && r.Pass {
			verdict += fmt.Sprintf(" (session survived the anchor restart; new session %.1f s after it)", r.NewSessionAfterMs/1000)
		}
		rows = append(rows, []string{r.Scenario, r.Transport, r.Expect, r.Path,
			fmt.Sprintf("%.0f", r.TimeToFirstByteMs), fmt.Sprintf("%.0f", r.TimeToDirectMs),
			fmt.Sprintf("%.1f", r.RelayMBps), fmt.Sprintf("%.1f", r.FinalMBps), fmt.Sprint(r.BytesMatch), fmt.Sprint(len(r.Leaked) == 0), verdict})
	}
	writeTable(w, []string{"SCENARIO", "TRANSPORT", "EXPECT", "PATH", "TTFB_MS", "TO_DIRECT_MS", "RELAY_MB/S", "FINAL_MB/S", "SHA256_OK", "PRIVATE_OK", "RESULT"}, rows)
	fmt.Fprintf(w, "%d passed, %d failed\n", rep.Passed, rep.Failed)
}
