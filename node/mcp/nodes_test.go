package mcp

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

// startDaemon starts a real node on loopback with its local API on a
// socket in a fresh home, and returns it with a client of that socket.
func startDaemon(t *testing.T, bootstrap []string) (*node.Node, *localapi.Client) {
	t.Helper()
	home, err := os.MkdirTemp("", "pmcp") // short: socket paths are limited
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(home) })
	cfg := node.TestnetConfig()
	cfg.Home = home
	cfg.APISocket = filepath.Join(home, "pilot.sock")
	cfg.Bootstrap = bootstrap
	n, err := node.New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	t.Cleanup(func() { n.Close() })
	c := localapi.NewClient(cfg.APISocket)
	t.Cleanup(c.Close)
	return n, c
}

// until calls f until it returns nil, failing the test at the deadline.
func until(t *testing.T, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 20 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done within %s: %v", what, timeout, err)
		}
		<-time.After(wait)
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// TestTwoDaemons drives two real nodes through their MCP servers: status,
// resolve, trust request and approval, a text, JSON and binary message
// from one to the other read back through the receiver's inbox, a task,
// and the errors of a bad address and an unknown agent.
func TestTwoDaemons(t *testing.T) {
	a, aAPI := startDaemon(t, nil)
	b, bAPI := startDaemon(t, a.JoinAddrs())
	ma, mb := connect(t, aAPI), connect(t, bAPI)
	aAddr, bAddr := a.Addr().String(), b.Addr().String()

	st := ok[localapi.Status](ma, "pilot_status", nil)
	require.Equal(t, aAddr, st.Address)
	require.Equal(t, a.PeerID().String(), st.PeerID)
	require.NotEmpty(t, st.Addrs)

	until(t, 30*time.Second, "a resolves b", func() error {
		res := ma.call("pilot_resolve", map[string]any{"address": bAddr})
		if res.IsError {
			return fmt.Errorf("%v", res.StructuredContent)
		}
		return nil
	})
	r := ok[localapi.Resolved](ma, "pilot_resolve", map[string]any{"address": bAddr})
	require.Equal(t, b.PeerID().String(), r.PeerID)
	require.True(t, r.Pinned)

	// Untrusted, b refuses a's message.
	e := ma.fail("pilot_send", map[string]any{"to": bAddr, "text": "too early"})
	require.Equal(t, localapi.CodeTrustRequired, e.Code, e.Message)

	// a asks b for trust; b sees the request pending and approves it.
	rec := ok[localapi.TrustRecord](ma, "pilot_trust_request", map[string]any{"to": bAddr, "message": "the MCP test, asking"})
	require.Equal(t, "outgoing_pending", rec.State)
	until(t, 30*time.Second, "the request reaches b", func() error {
		p := ok[localapi.TrustList](mb, "pilot_trust_pending", nil)
		for _, r := range p.Records {
			if r.Address == aAddr && r.State == "incoming_pending" && r.Message == "the MCP test, asking" {
				return nil
			}
		}
		return fmt.Errorf("pending at b: %+v", p.Records)
	})
	rec = ok[localapi.TrustRecord](mb, "pilot_trust_approve", map[string]any{"from": aAddr})
	require.Equal(t, "trusted", rec.State)
	until(t, 30*time.Second, "a learns of the approval", func() error {
		if p := ok[localapi.TrustList](ma, "pilot_trust_pending", nil); p.Count > 0 {
			return fmt.Errorf("still pending at a: %+v", p.Records)
		}
		return nil
	})

	// Three messages, one of each kind, read back from b's inbox.
	sent := map[string]localapi.SendResult{}
	for kind, args := range map[string]map[string]any{
		"text":   {"to": bAddr, "text": "hello from the MCP test"},
		"json":   {"to": bAddr, "json": map[string]any{"task": "summarise", "n": 3}},
		"binary": {"to": bAddr, "binary_base64": base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255})},
	} {
		s := ok[localapi.SendResult](ma, "pilot_send", args)
		require.Equal(t, bAddr, s.Address)
		require.Equal(t, kind, s.Kind)
		require.NotEmpty(t, s.ID)
		sent[kind] = s
	}
	inbox := ok[InboxOutput](mb, "pilot_inbox", nil)
	require.Equal(t, 3, inbox.Count)
	require.Equal(t, 3, inbox.Returned)
	got := map[string]InboxItem{}
	for _, m := range inbox.Messages {
		require.Equal(t, aAddr, m.FromAddr)
		require.Equal(t, sent[m.Kind].ID, m.ID)
		got[m.Kind] = m
	}
	require.Equal(t, "hello from the MCP test", got["text"].Text)
	require.JSONEq(t, `{"task":"summarise","n":3}`, got["json"].Text)
	require.Equal(t, []byte{0, 1, 2, 255}, got["binary"].Body)

	// Bounds: one message by ID, cut to 5 bytes; headers only.
	one := ok[InboxOutput](mb, "pilot_inbox", map[string]any{"id": sent["text"].ID, "max_body_bytes": 5})
	require.Len(t, one.Messages, 1)
	require.Equal(t, "hello", one.Messages[0].Text)
	require.True(t, one.Messages[0].Truncated)
	heads := ok[InboxOutput](mb, "pilot_inbox", map[string]any{"headers_only": true, "limit": 2})
	require.Equal(t, 3, heads.Count)
	require.Len(t, heads.Messages, 2)
	for _, m := range heads.Messages {
		require.Empty(t, m.Text)
		require.Empty(t, m.Body)
	}
	require.Equal(t, localapi.CodeNotFound, mb.fail("pilot_inbox", map[string]any{"id": "nosuchmessage"}).Code)

	// A task from a to b, seen on both sides.
	ti := ok[localapi.TaskInfo](ma, "pilot_task_submit", map[string]any{"to": bAddr, "type": "mcp.test", "input": map[string]any{"q": 1}})
	require.Equal(t, "requester", ti.Role)
	require.JSONEq(t, `{"q":1}`, string(ti.Input))
	until(t, 30*time.Second, "b lists the task", func() error {
		l := ok[TaskListOutput](mb, "pilot_task_list", nil)
		if l.Count == 1 && l.Tasks[0].ID == ti.ID && l.Tasks[0].Role == "worker" {
			return nil
		}
		return fmt.Errorf("b's tasks: %+v", l.Tasks)
	})
	require.Equal(t, ti.ID, ok[localapi.TaskInfo](ma, "pilot_task_result", map[string]any{"id": ti.ID}).ID)

	// b publishes a tag; a finds b by it.
	_, err := bAPI.SetProfile(context.Background(), localapi.ProfileRequest{Tags: []string{"mcp-test"}, SetTags: true})
	require.NoError(t, err)
	until(t, 30*time.Second, "a finds b by its tag", func() error {
		res := ma.call("pilot_find", map[string]any{"tag": "MCP-Test"})
		if res.IsError {
			return fmt.Errorf("%v", res.StructuredContent)
		}
		return nil
	})
	found := ok[localapi.FindResult](ma, "pilot_find", map[string]any{"tag": "mcp-test"})
	require.Equal(t, 1, found.Count)
	require.Equal(t, bAddr, found.Claimants[0].Address)
	require.True(t, found.Claimants[0].Trusted)

	polo := ok[localapi.PoloInfo](ma, "pilot_polo", map[string]any{"target": bAddr})
	require.Equal(t, bAddr, polo.Address)

	// Errors keep the CLI's codes and hints.
	e = ma.fail("pilot_send", map[string]any{"to": "3f2a.91c0", "text": "x"})
	require.Equal(t, localapi.CodeInvalidArgument, e.Code)
	require.Contains(t, e.Hint, "3f2a.91c0.7d14")
	e = ma.fail("pilot_resolve", map[string]any{"address": "0000.0000.0001"})
	require.Equal(t, localapi.CodeNotFound, e.Code, e.Message)
}
