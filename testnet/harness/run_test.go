package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pilot-agents/pilot/testnet/analysis"
)

// TestRunSmall runs a real twelve-node testnet for a short workload and
// checks the report folder: the tasks happened, every file is there, the
// plots decode as PNG images, and report.json agrees with edges.csv.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts twelve nodes")
	}
	defer goleak.VerifyNone(t, leakOptions()...)
	out := t.TempDir()
	var progress bytes.Buffer
	rep, err := Run(context.Background(), Config{Nodes: 12, Seed: 3, Duration: 25 * time.Second,
		OutDir: out, Bootstrap: 50, Concurrency: 4, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("tasks %+v", rep.Tasks)
	if rep.Tasks.Total == 0 {
		t.Fatalf("no task completed: outcomes %v", rep.Tasks.Outcomes)
	}
	if rep.Interrupted || rep.PartnerGraph.Nodes == 0 || rep.PartnerGraph.Edges == 0 {
		t.Errorf("report: interrupted %v, partner graph %d nodes %d edges", rep.Interrupted, rep.PartnerGraph.Nodes, rep.PartnerGraph.Edges)
	}
	if rep.Memory.AtEnd.HeapAllocPerNodeMiB <= 0 || rep.Connections.PerNodeMean <= 0 || rep.Tasks.PerSecond <= 0 {
		t.Errorf("missing measurements: memory %+v connections %+v", rep.Memory.AtEnd, rep.Connections)
	}
	for _, f := range []string{FileReportJSON, FileReportMD, FileEdges, FileAgents, FileCCDF, FileAlpha, FilePolo, FileKCore} {
		st, err := os.Stat(filepath.Join(out, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (size %d)", f, err, st.Size())
			continue
		}
		if strings.HasSuffix(f, ".png") {
			b, _ := os.ReadFile(filepath.Join(out, f))
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s does not decode: %v", f, err)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(out, FileReportJSON))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, FileEdges))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	edges, err := analysis.ReadEdges(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(edges) != back.PartnerGraph.Edges {
		t.Errorf("edges.csv has %d edges, report.json %d", len(edges), back.PartnerGraph.Edges)
	}
	if !strings.Contains(progress.String(), "tasks") {
		t.Errorf("no progress drawn: %q", progress.String())
	}
}

// TestRunSybilAndChurn: with a Sybil collective and churn the run still
// completes, counts the honest tasks routed to Sybils, and restarts
// churned nodes.
func TestRunSybilAndChurn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts twelve nodes")
	}
	defer goleak.VerifyNone(t, leakOptions()...)
	rep, err := Run(context.Background(), Config{Nodes: 12, Seed: 4, Duration: 30 * time.Second, OutDir: t.TempDir(),
		Bootstrap: 20, Concurrency: 4, Sybil: 0.25, Churn: 0.2, ChurnDowntime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sybil %+v churn %+v tasks %v", rep.Sybil, rep.Churn, rep.Tasks.Outcomes)
	if rep.Sybil.Agents != 3 || rep.Sybil.HonestTasks == 0 {
		t.Errorf("sybil report %+v", rep.Sybil)
	}
	if rep.Sybil.Share != float64(rep.Sybil.ToSybil)/float64(rep.Sybil.HonestTasks) {
		t.Errorf("share %v inconsistent with %d/%d", rep.Sybil.Share, rep.Sybil.ToSybil, rep.Sybil.HonestTasks)
	}
	if rep.Churn.Events == 0 || rep.Churn.Restarts == 0 {
		t.Errorf("churn report %+v", rep.Churn)
	}
}

// TestRunInterrupted: cancelling the context stops the run early, closes
// every node and still writes a report marked interrupted.
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts six nodes")
	}
	defer goleak.VerifyNone(t, leakOptions()...)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(15*time.Second, cancel)
	out := t.TempDir()
	rep, err := Run(ctx, Config{Nodes: 6, Seed: 5, Duration: time.Hour, OutDir: out, Bootstrap: 20})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Timings.RunSeconds > 600 {
		t.Errorf("interrupted %v after %.0f s of workload", rep.Interrupted, rep.Timings.RunSeconds)
	}
	if _, err := os.Stat(filepath.Join(out, FileReportJSON)); err != nil {
		t.Error(err)
	}
}

// leakOptions: every goroutine a run started must be gone when Run
// returns, except those that were there before.
func leakOptions() []goleak.Option { return []goleak.Option{goleak.IgnoreCurrent()} }
