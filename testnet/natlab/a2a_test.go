package natlab

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test binary doubles as the A2A agent and its remote client, each run
// inside a lab namespace: with NATLAB_A2A set it runs that program and
// exits before the tests (and TestMain) start.
//   - NATLAB_A2A=agent: an HTTP agent on 127.0.0.1 (the namespace's own
//     loopback); prints "ready <addr>" and answers a JSON-RPC POST on /a2a
//     with the method it got, until stdin closes.
//   - NATLAB_A2A=post NATLAB_A2A_URL=<url>: POSTs a JSON-RPC request there
//     and prints "reply <body>" or "error <err>".
func init() {
	switch os.Getenv("NATLAB_A2A") {
	case "":
		return
	case "agent":
		os.Exit(a2aAgentMain())
	case "post":
		os.Exit(a2aPostMain(os.Getenv("NATLAB_A2A_URL")))
	default:
		fmt.Println("error unknown NATLAB_A2A mode")
		os.Exit(2)
	}
}

// a2aTimeout bounds the agent: it exits by itself after this.
const a2aTimeout = 5 * time.Minute

func a2aAgentMain() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     int    `json:"id"`
			Method string `json:"method"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/a2a" || json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%d,"result":{"echo":%q}}`, req.ID, req.Method)
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Println("ready", ln.Addr())
	done := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-time.After(a2aTimeout):
	}
	_ = srv.Close()
	return 0
}

func a2aPostMain(url string) int {
	hc := &http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":7,"method":"message/send","params":{}}`))
	if err != nil {
		fmt.Println("error", err)
		return 0
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Println("error", resp.StatusCode, err)
		return 0
	}
	fmt.Println("reply", string(b))
	return 0
}

// a2aCmd runs the test binary in an A2A mode inside h's namespace.
func a2aCmd(t *testing.T, h *Host, env ...string) *exec.Cmd {
	exe, err := os.Executable()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), a2aTimeout)
	t.Cleanup(cancel)
	cmd := h.Command(ctx, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// TestA2AAcrossNATs: two agents behind their own cone NATs, neither with a
// public address, and an anchor on the lab's public segment. B runs an
// HTTP agent inside its namespace and `pilot a2a serve`; C fetches B's card
// with `pilot a2a get` and reaches the agent through `pilot forward`, its
// HTTP client running inside C's namespace.
func TestA2AAcrossNATs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real daemons in network namespaces")
	}
	requireLab(t)
	bin := buildPilot(t)
	lab := newLab(t)
	ctx := t.Context()
	hA, hB, hC := addHost(t, lab, "anchor", None), addHost(t, lab, "b", Cone), addHost(t, lab, "c", Cone)
	work := t.TempDir()
	daemon := func(h *Host, name string, args ...string) *Daemon {
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		d, err := StartDaemon(sctx, bin, h, filepath.Join(work, name), args...)
		require.NoError(t, err)
		t.Cleanup(func() { _ = d.Stop() })
		return d
	}
	a := daemon(hA, "anchor", append([]string{"--anchor"}, listenArgs(hA.Addr.String(), "tcp")...)...)
	var boot []string
	for _, j := range a.Join {
		boot = append(boot, "--bootstrap", j)
	}
	b := daemon(hB, "b", append(boot, listenArgs("0.0.0.0", "tcp")...)...)
	c := daemon(hC, "c", append(boot, listenArgs("0.0.0.0", "tcp")...)...)
	logs := func() string { return "B: " + b.LogTail() + "\nC: " + c.LogTail() }

	// The agent listens on B's own loopback: nothing outside B reaches it.
	agent := start(t, a2aCmd(t, hB, "NATLAB_A2A=agent"))
	agentAddr := strings.TrimPrefix(agent.expect(t, "ready ", 20*time.Second), "ready ")

	cardFile := filepath.Join(work, "card.json")
	require.NoError(t, os.WriteFile(cardFile, []byte(`{"name":"NAT Agent","url":"http://`+agentAddr+`/a2a","version":"1","skills":[{"id":"echo"}]}`), 0o600))
	// a2a serve only talks to B's socket; it needs no namespace.
	serve := exec.Command(bin, "--home", b.Home, "a2a", "serve", "--card", cardFile, "--to", agentAddr, "--public", "--json")
	stdout, err := serve.StdoutPipe()
	require.NoError(t, err)
	var serveErr strings.Builder
	serve.Stderr = &serveErr
	require.NoError(t, serve.Start())
	exited := make(chan error, 1)
	readyLine := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			readyLine <- sc.Text()
		}
		close(readyLine)
		for sc.Scan() {
		}
		exited <- serve.Wait()
	}()
	t.Cleanup(func() { _ = serve.Process.Kill() })
	var ready struct {
		Status string `json:"status"`
		Data   struct {
			Address string `json:"address"`
			URL     string `json:"url"`
		} `json:"data"`
	}
	select {
	case line, ok := <-readyLine:
		require.True(t, ok, "a2a serve exited before it was ready: %s", serveErr.String())
		require.NoError(t, json.Unmarshal([]byte(line), &ready), line)
	case <-time.After(60 * time.Second):
		t.Fatalf("a2a serve not ready within 60 s: %s", serveErr.String())
	}
	require.Equal(t, "ok", ready.Status)
	require.Equal(t, b.Address, ready.Data.Address)

	// C fetches the card across both NATs.
	var card struct {
		Name  string `json:"name"`
		URL   string `json:"url"`
		Pilot struct {
			Address string `json:"address"`
			Port    int    `json:"port"`
			Path    string `json:"path"`
		} `json:"pilot"`
	}
	start1 := time.Now()
	var lastErr error
	deadline := time.Now().Add(90 * time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		gctx, cancel := context.WithTimeout(ctx, 40*time.Second)
		lastErr = c.CLI(gctx, &card, "a2a", "get", b.Address)
		cancel()
		if lastErr == nil || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	require.NoError(t, lastErr, logs())
	t.Logf("card fetched across the NATs after %s: %+v", time.Since(start1).Round(time.Millisecond), card)
	require.Equal(t, "NAT Agent", card.Name)
	require.Equal(t, "pilot://"+b.Address+":8080/a2a", card.URL)
	require.Equal(t, b.Address, card.Pilot.Address)
	require.Equal(t, 8080, card.Pilot.Port)

	// C's A2A client, inside C's namespace, reaches the agent through a forward.
	var fwd struct {
		Local string `json:"local"`
	}
	require.NoError(t, c.CLI(ctx, &fwd, "forward", "127.0.0.1:0", "--to", fmt.Sprintf("%s:%d", card.Pilot.Address, card.Pilot.Port)))
	out, err := a2aCmd(t, hC, "NATLAB_A2A=post", "NATLAB_A2A_URL=http://"+fwd.Local+card.Pilot.Path).Output()
	require.NoError(t, err)
	require.Equal(t, `reply {"jsonrpc":"2.0","id":7,"result":{"echo":"message/send"}}`, strings.TrimSpace(string(out)), logs())

	// Which path carried it: direct (hole punched) or relayed.
	var peers struct {
		Peers []struct {
			Address string `json:"address"`
			Path    string `json:"path"`
		} `json:"peers"`
	}
	require.NoError(t, c.CLI(ctx, &peers, "peers"))
	for _, p := range peers.Peers {
		if p.Address == b.Address {
			t.Logf("C reaches B over a %s path", p.Path)
		}
	}

	// SIGTERM: a2a serve exits 0 and closes its tunnel.
	require.NoError(t, serve.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "a2a serve exit: %s", serveErr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("a2a serve did not exit within 30 s of SIGTERM")
	}
	var tunnels struct {
		Tunnels []json.RawMessage `json:"tunnels"`
	}
	require.NoError(t, b.CLI(ctx, &tunnels, "tunnels"))
	require.Empty(t, tunnels.Tunnels, "a2a serve left its tunnel behind")
}
