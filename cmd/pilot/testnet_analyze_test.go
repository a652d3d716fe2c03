package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/testnet/analysis"
)

// TestTestnetAnalyze runs the command on a growing graph where each new
// node links to m=2 earlier ones chosen in proportion to degree (a small
// Barabási–Albert graph), and on bad files.
func TestTestnetAnalyze(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("# preferential attachment, m=2\n")
	targets := []int{0, 1, 1, 0} // every endpoint once: picking from it is picking by degree
	b.WriteString("0 1\n")
	seed := uint64(7)
	next := func(n int) int { // a small LCG: deterministic without math/rand
		seed = seed*6364136223846793005 + 1442695040888963407
		return int((seed >> 33) % uint64(n))
	}
	for v := 2; v < 2000; v++ {
		a, c := targets[next(len(targets))], targets[next(len(targets))]
		for _, u := range []int{a, c} {
			fmt.Fprintf(&b, "%d %d\n", u, v)
			targets = append(targets, u, v)
		}
	}
	path := filepath.Join(dir, "ba.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var rep analysis.Report
	wantOK(t, cli(t, shortHome(t), "testnet", "analyze", "--edges", path, "--bootstrap", "50", "--json"), &rep)
	if rep.Nodes != 2000 || rep.Kmax < 20 || rep.Alpha < 2 || rep.Alpha > 4 || rep.Verdict == "" || rep.Degeneracy != 2 {
		t.Errorf("report = nodes %d kmax %d alpha %.2f degeneracy %d verdict %q", rep.Nodes, rep.Kmax, rep.Alpha, rep.Degeneracy, rep.Verdict)
	}
	text := cli(t, shortHome(t), "testnet", "analyze", "--edges", path, "--bootstrap", "20")
	if text.code != 0 || !strings.Contains(text.stdout, "verdict:") || !strings.Contains(text.stdout, "alpha:") {
		t.Errorf("text output: %q (stderr %q)", text.stdout, text.stderr)
	}

	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("1 2\n3 x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := wantError(t, cli(t, shortHome(t), "testnet", "analyze", "--edges", bad, "--json"), localapi.CodeInvalidArgument, 2)
	if !strings.Contains(*env.Message, "line 2") {
		t.Errorf("the error does not name the line: %s", *env.Message)
	}
	wantError(t, cli(t, shortHome(t), "testnet", "analyze", "--json"), localapi.CodeInvalidArgument, 2)
	wantError(t, cli(t, shortHome(t), "testnet", "analyze", "--edges", filepath.Join(dir, "missing"), "--json"), localapi.CodeInvalidArgument, 2)
}
