package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// a2aAgent is a tiny A2A-like HTTP agent: it answers a JSON-RPC POST on
// /a2a with the method it got.
func a2aAgent(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/a2a" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%v,"result":{"echo":%q}}`, req.ID, req.Method)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startA2AServe runs `pilot a2a serve` with --json and returns the process
// and its ready data.
func startA2AServe(t *testing.T, bin, home string, args ...string) (*daemon, a2aReady) {
	t.Helper()
	d := &daemon{name: "a2a serve", home: home, stdout: newNotifyBuffer(), done: make(chan struct{})}
	var stderr strings.Builder
	d.cmd = exec.Command(bin, append([]string{"--home", home, "a2a", "serve", "--json"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, &stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.waitErr = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("a2a serve stderr: %s", stderr.String())
		}
	})
	out := d.waitStdout(t, "a2a ready envelope", 60*time.Second, func(s string) bool { return strings.Contains(s, "\n") })
	var r a2aReady
	decodeOK(t, out, &r)
	return d, r
}

// TestA2AOverPilot runs A2A over Pilot end to end on loopback: an anchor
// and two private daemons B and C (relay addresses only). B serves an
// agent's card and exposes its endpoint with `pilot a2a serve`; C fetches
// the card by address and by hostname with `pilot a2a get`, and reaches
// the agent through `pilot forward`. A card port B keeps private answers
// C with trust_required; stopping the serve removes what it created.
func TestA2AOverPilot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	a := startDaemon(t, bin, "A", homeA, "--anchor", "--json")
	join := tcpJoin(t, a.ready(t))
	b := startDaemon(t, bin, "B", homeB, "--bootstrap", join, "--json")
	readyB := b.ready(t)
	c := startDaemon(t, bin, "C", homeC, "--bootstrap", join, "--json")
	c.ready(t)
	run := func(home string, args ...string) result {
		return pilotRun(t, bin, 60*time.Second, append([]string{"--home", home}, args...)...)
	}

	agent := a2aAgent(t)
	cardFile := filepath.Join(t.TempDir(), "card.json")
	card := `{"name":"Echo Agent","description":"answers with the method","url":"` + agent.URL + `/a2a",` +
		`"version":"1.0.0","capabilities":{"streaming":false},"skills":[{"id":"echo","name":"Echo"}],"x-vendor":{"keep":true}}`
	if err := os.WriteFile(cardFile, []byte(card), 0o600); err != nil {
		t.Fatal(err)
	}
	serve, ready := startA2AServe(t, bin, homeB, "--card", cardFile, "--to", strings.TrimPrefix(agent.URL, "http://"), "--public")
	wantURL := "pilot://" + readyB.Address + ":8080/a2a"
	if ready.Address != readyB.Address || ready.CardPort != 80 || ready.AgentPort != 8080 || ready.URL != wantURL || !ready.Public || ready.TunnelID == "" {
		t.Fatalf("ready = %+v", ready)
	}

	// C fetches the card over Pilot, through the anchor's relay.
	var got map[string]json.RawMessage
	eventually(t, "a2a get", 60*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := run(homeC, "a2a", "get", readyB.Address, "--json")
		if r.code != 0 {
			return false, r.stderr
		}
		decodeOK(t, r.stdout, &got)
		return true, ""
	})
	var name, u string
	var ext a2aPilot
	_ = json.Unmarshal(got["name"], &name)
	_ = json.Unmarshal(got["url"], &u)
	_ = json.Unmarshal(got["pilot"], &ext)
	if name != "Echo Agent" || u != wantURL || string(got["x-vendor"]) != `{"keep":true}` || string(got["skills"]) != `[{"id":"echo","name":"Echo"}]` {
		t.Errorf("card = %s", mustJSON(got))
	}
	if ext.Address != readyB.Address || ext.Port != 8080 || ext.CardPort != 80 || ext.Path != "/a2a" || ext.OriginalURL != agent.URL+"/a2a" {
		t.Errorf("pilot extension = %+v", ext)
	}
	// Text output: the card, indented.
	if r := run(homeC, "a2a", "get", readyB.Address); r.code != 0 || !strings.Contains(r.stdout, "\n  \"name\": \"Echo Agent\"") {
		t.Errorf("text get: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	// By hostname, once B's name is published.
	wantOK(t, run(homeB, "set-hostname", "echo-agent", "--json"), &localapi.Profile{})
	eventually(t, "a2a get by hostname", 60*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := run(homeC, "a2a", "get", "echo-agent", "--json")
		return r.code == 0 && strings.Contains(r.stdout, wantURL), r.stderr
	})

	// C's A2A client reaches the agent through a forward.
	var fwd localapi.Tunnel
	wantOK(t, run(homeC, "forward", "127.0.0.1:0", "--to", ext.Address+":"+fmt.Sprint(ext.Port), "--json"), &fwd)
	resp, err := http.Post("http://"+fwd.Local+ext.Path, "application/json",
		strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"message/send","params":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != `{"jsonrpc":"2.0","id":1,"result":{"echo":"message/send"}}` {
		t.Errorf("agent through forward: %d %q", resp.StatusCode, body)
	}

	// A card port B keeps private: C, untrusted, is refused.
	private, _ := startA2AServe(t, bin, homeB, "--card", cardFile, "--to", strings.TrimPrefix(agent.URL, "http://"), "--port", "81", "--agent-port", "8081")
	wantError(t, run(homeC, "a2a", "get", readyB.Address, "--port", "81", "--json"), localapi.CodeTrustRequired, exitFailure)
	// The same port twice is refused.
	r := run(homeB, "a2a", "serve", "--card", cardFile, "--to", "127.0.0.1:1", "--port", "81", "--agent-port", "8082", "--json")
	wantError(t, r, localapi.CodeInvalidArgument, exitUsage)

	// SIGTERM: exit 0, the tunnel closed, the ports closed and private again.
	for _, p := range []*daemon{serve, private} {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Fatal("a2a serve did not exit within 30s of SIGTERM")
		}
		if p.waitErr != nil {
			t.Errorf("a2a serve exited with %v, want exit 0", p.waitErr)
		}
	}
	var tunnels localapi.TunnelList
	wantOK(t, run(homeB, "tunnels", "--json"), &tunnels)
	if len(tunnels.Tunnels) != 0 {
		t.Errorf("tunnels left after a2a serve: %+v", tunnels.Tunnels)
	}
	var ports localapi.PortList
	wantOK(t, run(homeB, "ports", "--json"), &ports)
	for _, p := range ports.Ports {
		if p.Port == 80 || p.Port == 81 || p.Port == 8080 || p.Port == 8081 {
			t.Errorf("port left open or public: %+v", p)
		}
	}
	wantError(t, run(homeC, "a2a", "get", readyB.Address, "--json"), localapi.CodeConnectionFailed, exitFailure)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
