package main

import (
	"strings"
	"testing"
)

// TestBench runs `pilot bench` with a small payload: every path is
// measured and reported, stderr stays empty with --json, and bad flags are
// usage errors. It asserts no speed.
func TestBench(t *testing.T) {
	var rep benchReport
	res := cli(t, shortHome(t), "bench", "--mib", "1", "--rounds", "1", "--setup-rounds", "1", "--idle-nodes", "3", "--json")
	wantOK(t, res, &rep)
	if res.stderr != "" {
		t.Errorf("stderr with --json: %q", res.stderr)
	}
	tp := rep.Throughput
	for name, v := range map[string]float64{"raw_tcp": tp.RawTCP, "libp2p_tcp": tp.Libp2pTCP, "pilot_tcp": tp.PilotTCP,
		"libp2p_quic": tp.Libp2pQUIC, "pilot_quic": tp.PilotQUIC, "pilot_tunnel_tcp": tp.PilotTunnelTCP} {
		if v <= 0 {
			t.Errorf("%s = %v MB/s", name, v)
		}
	}
	st := rep.Setup
	if st.PilotColdMs <= 0 || st.Libp2pColdMs <= 0 || st.RawTCPMs <= 0 || st.PilotWarmMs <= 0 || st.Libp2pWarmMs <= 0 || st.Rounds != 1 {
		t.Errorf("setup = %+v", st)
	}
	if len(rep.Idle) != 1 || rep.Idle[0].Nodes != 3 || rep.Idle[0].GoroutinesPerNode <= 0 {
		t.Errorf("idle = %+v", rep.Idle)
	}
	if tp.Rounds != 1 || tp.BytesPerStream != 1<<20 || rep.Machine.CPUs < 1 {
		t.Errorf("report = %+v", rep)
	}
	text := cli(t, shortHome(t), "bench", "--mib", "1", "--rounds", "1", "--setup-rounds", "1", "--idle-nodes", "2")
	if text.code != 0 || !strings.Contains(text.stdout, "Pilot port, QUIC") || !strings.Contains(text.stdout, "tunnel / direct TCP") || !strings.Contains(text.stdout, "cold: Pilot") || !strings.Contains(text.stdout, "idle node cost") {
		t.Errorf("text output: %q (stderr %q)", text.stdout, text.stderr)
	}
	for _, args := range [][]string{{"--mib", "0"}, {"--rounds", "0"}, {"--mib", "99999999"}, {"--setup-rounds", "0"}, {"--idle-nodes", "1"}, {"--idle-nodes", "x"}} {
		wantError(t, cli(t, shortHome(t), append([]string{"bench", "--json"}, args...)...), "invalid_argument", exitUsage)
	}
}
