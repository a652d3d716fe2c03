package natlab

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// buildPilot compiles the pilot binary once per test.
func buildPilot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pilot")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/pilot").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// TestScenarios runs real pilot daemons behind real NATs: one transport of
// each scenario on every CI run (`pilot testnet natlab` runs them all).
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real daemons in network namespaces")
	}
	requireLab(t)
	bin := buildPilot(t)
	var labs []string
	for _, tc := range []struct {
		scenario, transport string
	}{
		{"cone-cone", "tcp"},
		{"public-nat", "quic"},
		{"symmetric", "tcp"},
		{"udp-blocked", "both"},
		{"anchor-restart", "quic"},
		{"privacy", "tcp"},
	} {
		t.Run(tc.scenario+"/"+tc.transport, func(t *testing.T) {
			var sc Scenario
			for _, s := range Scenarios {
				if s.Name == tc.scenario {
					sc = s
				}
			}
			start := time.Now()
			r := Run(t.Context(), sc, tc.transport, Options{Bin: bin, WorkDir: t.TempDir(), TransferBytes: 16 << 20, DirectWait: 10 * time.Second})
			t.Logf("%s/%s in %s: path %s, ttfb %.0f ms, to direct %.0f ms, relay %.1f MB/s, final %.1f MB/s, sha256 ok %v",
				tc.scenario, tc.transport, time.Since(start).Round(time.Millisecond), r.Path, r.TimeToFirstByteMs, r.TimeToDirectMs, r.RelayMBps, r.FinalMBps, r.BytesMatch)
			labs = append(labs, r.Lab)
			require.True(t, r.Pass, r.Error)
			require.True(t, r.BytesMatch, "16 MiB over the relay must arrive intact")
		})
	}
	left, err := exec.Command("ip", "netns", "list").Output()
	require.NoError(t, err)
	for _, id := range labs {
		require.NotContains(t, string(left), "pl-"+id+"-", "lab %s left namespaces behind", id)
	}
}
