package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// TestSessionDaemons runs the session layer end to end with real daemons:
// an anchor and two private-by-default nodes on loopback.
//   - send to an untrusted peer is trust_required; after request + approve
//     it lands in the inbox; after revoke it is refused again;
//   - echo, connect/listen and publish/subscribe work across the daemons;
//   - an HTTP server behind expose is fetched through forward, 20 at once,
//     and closing the tunnel closes it.
func TestSessionDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	a := startDaemon(t, bin, "A", homeA, "--anchor", "--json")
	readyA := a.ready(t)
	join := tcpJoin(t, readyA)
	b := startDaemon(t, bin, "B", homeB, "--bootstrap", join, "--json")
	readyB := b.ready(t)
	c := startDaemon(t, bin, "C", homeC, "--bootstrap", join, "--json")
	readyC := c.ready(t)
	run := func(home string, args ...string) result {
		return pilotRun(t, bin, 60*time.Second, append([]string{"--home", home}, args...)...)
	}

	// Both private nodes publish relay addresses only, and find each other.
	for _, pair := range [][2]string{{homeC, readyB.Address}, {homeB, readyC.Address}} {
		eventually(t, "resolve with a relay address", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
			r := run(pair[0], "resolve", pair[1], "--json")
			var res localapi.Resolved
			if r.code != 0 {
				return false, r.stderr
			}
			decodeOK(t, r.stdout, &res)
			for _, m := range res.Addrs {
				if !strings.Contains(m, "/p2p-circuit") {
					t.Fatalf("private node published a direct address: %v", res.Addrs)
				}
			}
			return len(res.Addrs) > 0, "no addresses yet"
		})
	}

	// 1. Trust gates the data exchange.
	wantError(t, run(homeC, "send", readyB.Address, "hello", "--json"), localapi.CodeTrustRequired, exitFailure)
	wantOK(t, run(homeC, "trust", "request", readyB.Address, "--message", "reports for you", "--json"), &localapi.TrustRecord{})
	eventually(t, "B sees C's request", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		var l localapi.TrustList
		wantOK(t, run(homeB, "trust", "pending", "--json"), &l)
		return l.Count == 1 && l.Records[0].Address == readyC.Address && l.Records[0].Message == "reports for you", "not pending yet"
	})
	wantOK(t, run(homeB, "trust", "approve", readyC.Address, "--json"), &localapi.TrustRecord{})
	eventually(t, "C sees the approval", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		var l localapi.TrustList
		wantOK(t, run(homeC, "trust", "list", "--json"), &l)
		return l.Count == 1 && l.Records[0].State == "trusted", "not trusted yet"
	})
	var sent localapi.SendResult
	wantOK(t, run(homeC, "send", readyB.Address, "hello", "--json"), &sent)
	var msg localapi.InboxMessage
	wantOK(t, run(homeB, "inbox", "get", sent.ID, "--json"), &msg)
	if msg.Text != "hello" || msg.FromAddr != readyC.Address {
		t.Errorf("inbox get = %+v", msg)
	}

	// 2. Echo, connect/listen, publish/subscribe.
	var echo localapi.EchoResult
	wantOK(t, run(homeC, "echo", readyB.Address, "ping pong", "--json"), &echo)
	if echo.Text != "ping pong" {
		t.Errorf("echo = %+v", echo)
	}
	listen := exec.Command(bin, "--home", homeB, "listen", "1000")
	var listenOut bytes.Buffer
	listen.Stdout = &listenOut
	listen.Stdin = strings.NewReader("")
	if err := listen.Start(); err != nil {
		t.Fatal(err)
	}
	defer listen.Process.Kill()
	eventually(t, "connect to B's stdio port", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := pilotRunIn(t, bin, "line one\nline two\n", "--home", homeC, "connect", readyB.Address+":1000")
		return r.code == 0, r.stderr
	})
	if err := listen.Wait(); err != nil {
		t.Errorf("listen: %v", err)
	}
	if listenOut.String() != "line one\nline two\n" {
		t.Errorf("listen got %q", listenOut.String())
	}

	sub := exec.Command(bin, "--home", homeB, "subscribe", "news", "--count", "1", "--json")
	var subOut bytes.Buffer
	sub.Stdout = &subOut
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	defer sub.Process.Kill()
	subDone := make(chan error, 1)
	go func() { subDone <- sub.Wait() }()
	published := false
	for deadline := time.Now().Add(60 * time.Second); !published && time.Now().Before(deadline); {
		wantOK(t, run(homeC, "publish", "news", "extra extra", "--json"), &localapi.Published{})
		select {
		case err := <-subDone:
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			published = true
		case <-time.After(500 * time.Millisecond):
		}
	}
	if !published {
		t.Fatal("subscriber got nothing within 60 s")
	}
	var ev localapi.TopicEvent
	decodeOK(t, subOut.String(), &ev)
	if ev.Data != "extra extra" || ev.FromAddr != readyC.Address {
		t.Errorf("subscribe got %+v", ev)
	}

	// 3. An HTTP server behind expose on B, fetched through forward on C.
	file := make([]byte, 256<<10)
	_, _ = rand.Read(file)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(file) }))
	defer srv.Close()
	var exp, fwd localapi.Tunnel
	wantOK(t, run(homeB, "expose", "8080", "--to", strings.TrimPrefix(srv.URL, "http://"), "--json"), &exp)
	wantOK(t, run(homeC, "forward", "127.0.0.1:0", "--to", readyB.Address+":8080", "--json"), &fwd)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := client.Get("http://" + fwd.Local + "/")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(got, file) {
				t.Errorf("curl through the tunnel: %d bytes, %v", len(got), err)
			}
		})
	}
	wg.Wait()
	wantOK(t, run(homeC, "tunnel", "close", fwd.ID, "--json"), &localapi.Tunnel{})
	if _, err := client.Get("http://" + fwd.Local + "/"); err == nil {
		t.Error("the forward still answers after tunnel close")
	}

	// Revoke: refused again.
	wantOK(t, run(homeB, "trust", "revoke", readyC.Address, "--json"), &localapi.TrustRecord{})
	wantError(t, run(homeC, "send", readyB.Address, "again", "--json"), localapi.CodeTrustRequired, exitFailure)

	c.stop(t)
	b.stop(t)
	a.stop(t)
}

// pilotRunIn is pilotRun with stdin.
func pilotRunIn(t *testing.T, bin, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pilot %s hung", strings.Join(args, " "))
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}
