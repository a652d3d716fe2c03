package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// scrape GETs http://addr/metrics and returns its samples by series
// ("name" or `name{label="v"}`), plus the raw text.
func scrape(t *testing.T, addr string) (map[string]float64, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out, string(b)
}

// TestMetricsDaemon: `pilot up --metrics 127.0.0.1:0` says in its ready
// envelope where it serves; after a resolve, a trust handshake and a
// message between two daemons, /metrics holds Pilot's counters with those
// values and go-libp2p's metrics. A --metrics without a host is refused.
func TestMetricsDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	homeA, homeB := t.TempDir(), t.TempDir()
	wantError(t, pilotRun(t, bin, 30*time.Second, "--home", homeA, "up", "--metrics", ":0", "--json"), localapi.CodeInvalidArgument, exitUsage)

	a := startDaemon(t, bin, "A", homeA, "--anchor", "--metrics", "127.0.0.1:0", "--json")
	readyA := a.ready(t)
	if !strings.HasPrefix(readyA.Metrics, "127.0.0.1:") || strings.HasSuffix(readyA.Metrics, ":0") {
		t.Fatalf("ready envelope metrics = %q, want 127.0.0.1:<port>", readyA.Metrics)
	}
	b := startDaemon(t, bin, "B", homeB, "--bootstrap", tcpJoin(t, readyA), "--json")
	readyB := b.ready(t)
	if readyB.Metrics != "" {
		t.Errorf("B runs without --metrics but says %q", readyB.Metrics)
	}
	run := func(home string, args ...string) result {
		return pilotRun(t, bin, 60*time.Second, append([]string{"--home", home}, args...)...)
	}

	eventually(t, "A resolves B", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := run(homeA, "resolve", readyB.Address, "--json")
		return r.code == 0, r.stderr
	})
	wantOK(t, run(homeB, "trust", "request", readyA.Address, "--json"), &localapi.TrustRecord{})
	eventually(t, "A sees B's request", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		var l localapi.TrustList
		wantOK(t, run(homeA, "trust", "pending", "--json"), &l)
		return l.Count == 1, "not pending yet"
	})
	wantOK(t, run(homeA, "trust", "approve", readyB.Address, "--json"), &localapi.TrustRecord{})
	eventually(t, "A sends to B", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := run(homeA, "send", readyB.Address, "hello", "--json")
		return r.code == 0, r.stderr
	})

	m, text := scrape(t, readyA.Metrics)
	for series, atLeast := range map[string]float64{
		`pilot_resolves_total{result="found"}`:                   1,
		`pilot_trust_events_total{kind="request_received"}`:      1,
		`pilot_trust_events_total{kind="trusted"}`:               1,
		`pilot_sessions_opened_total{path="direct"}`:             1,
		`pilot_polo_compute_seconds_count`:                       0,
		`pilot_attestations_accepted_total`:                      0,
		`pilot_tasks_total{outcome="succeeded"}`:                 0,
		`pilot_store_gc_last_timestamp_seconds`:                  0,
		`pilot_sessions_opened_total{path="relayed"}`:            0,
		`pilot_resolves_total{result="not_found"}`:               0,
		`libp2p_rcmgr_connections{dir="inbound",scope="system"}`: 1,
	} {
		v, ok := m[series]
		if !ok {
			t.Errorf("/metrics has no %s", series)
		} else if v < atLeast {
			t.Errorf("%s = %v, want at least %v", series, v, atLeast)
		}
	}
	libp2p := 0
	for series := range m {
		if strings.HasPrefix(series, "libp2p_") {
			libp2p++
		}
	}
	if libp2p == 0 {
		t.Errorf("no libp2p_ series in /metrics:\n%s", text)
	}
	a.stop(t)
	b.stop(t)
}
