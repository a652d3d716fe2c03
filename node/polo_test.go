package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/task"
)

// TestTaskToPolo is the whole loop on real hosts: A submits a task to W,
// W does it, W's receipt comes back, A attests it; the attestation spreads
// by gossip to O and by sync to a late joiner L; W's Polo rises in A's
// view and in the view of O, which trusts A, but not in the view of a
// node that trusts nobody who vouched for W.
func TestTaskToPolo(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	nodes := startMesh(t, 3)
	a, w, o := nodes[0], nodes[1], nodes[2]
	defer func() {
		for _, n := range nodes {
			require.NoError(t, n.Close())
		}
	}()
	ot := &fakeTrust{}
	ot.add(a.PeerID())
	o.trust = ot

	require.Zero(t, a.PoloScore(w.PeerID()).Polo, "a newcomer starts at 0")
	eventually(t, 30*time.Second, func() error {
		_, err := a.Resolve(ctx, w.Addr())
		return err
	})
	sub, err := a.SubmitTask(ctx, w.Addr(), "echo", json.RawMessage(`{"x":1}`), time.Minute, false)
	require.NoError(t, err)
	eventually(t, 10*time.Second, func() error {
		got, err := w.Tasks().Get(sub.ID)
		if err != nil {
			return err
		}
		if got.State != task.StateSubmitted {
			return fmt.Errorf("state %s", got.State)
		}
		return nil
	})
	_, err = w.Tasks().Accept(ctx, sub.ID)
	require.NoError(t, err)
	_, err = w.Tasks().Complete(ctx, sub.ID, json.RawMessage(`{"y":2}`), "")
	require.NoError(t, err)
	done, err := a.Tasks().Wait(ctx, sub.ID)
	require.NoError(t, err)
	require.Equal(t, task.StateSucceeded, done.State)
	require.JSONEq(t, `{"y":2}`, string(done.Result))
	require.NotEmpty(t, done.Receipt, "the worker's receipt came back")

	eventually(t, 10*time.Second, func() error {
		if a.PoloScore(w.PeerID()).Attestations != 1 {
			return errors.New("A has not attested yet")
		}
		return nil
	})
	require.Positive(t, a.PoloScore(w.PeerID()).Polo, "A vouched for W")
	eventually(t, 30*time.Second, func() error { // gossip
		if o.polo.store.Count() != 1 {
			return errors.New("the attestation has not reached O")
		}
		return nil
	})
	o.refreshPolo(true)
	require.Positive(t, o.PoloScore(w.PeerID()).Polo, "O trusts A, who vouched for W")
	require.Contains(t, o.PoloScore(w.PeerID()).Derivation, "1 attestation")

	// A late joiner catches up by sync, and trusts nobody: W has no
	// standing in its view.
	cfg := TestnetConfig()
	cfg.Bootstrap = a.JoinAddrs()
	l, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, l.Start(ctx))
	defer l.Close()
	eventually(t, 30*time.Second, func() error {
		if l.polo.store.Count() != 1 {
			return errors.New("the late joiner has not caught up")
		}
		return nil
	})
	require.Zero(t, l.PoloScore(w.PeerID()).Polo, "evidence from strangers gives no standing")
	require.NoError(t, l.Close())
}

// TestTaskGate: by default (DaemonConfig) only trusted peers may submit
// tasks; with a minimum Polo, an untrusted peer below it is declined with
// a reason that says so.
func TestTaskGate(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	nodes := startMeshWith(t, 2, func() Config {
		c := TestnetConfig()
		c.TaskMinPolo = 500
		return c
	})
	defer func() {
		for _, n := range nodes {
			require.NoError(t, n.Close())
		}
	}()
	a, w := nodes[0], nodes[1]
	eventually(t, 30*time.Second, func() error {
		_, err := a.Resolve(ctx, w.Addr())
		return err
	})
	_, err := a.SubmitTask(ctx, w.Addr(), "echo", json.RawMessage(`1`), time.Minute, false)
	require.ErrorContains(t, err, "Polo")
	wt := &fakeTrust{}
	wt.add(a.PeerID())
	w.trust = wt
	_, err = a.SubmitTask(ctx, w.Addr(), "echo", json.RawMessage(`1`), time.Minute, false)
	require.NoError(t, err, "a trusted peer is admitted whatever its Polo")
}
