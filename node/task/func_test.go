package task

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

// TestFuncOutcomes runs tasks through an in-process handler (Config.Func)
// and checks what the requester gets.
func TestFuncOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		f       func(context.Context, Task) (json.RawMessage, string)
		state   State
		result  string
		errText string
	}{
		{name: "succeeds", f: func(_ context.Context, tk Task) (json.RawMessage, string) {
			return json.RawMessage(`{"echo":` + string(tk.Input) + `,"type":"` + tk.Type + `"}`), ""
		}, state: StateSucceeded, result: `{"echo":{"q":"ping"},"type":"echo"}`},
		{name: "no result", f: func(context.Context, Task) (json.RawMessage, string) { return nil, "" },
			state: StateSucceeded},
		{name: "fails", f: func(context.Context, Task) (json.RawMessage, string) { return json.RawMessage(`1`), "not today" },
			state: StateFailed, errText: "not today"},
		{name: "invalid JSON fails", f: func(context.Context, Task) (json.RawMessage, string) { return json.RawMessage(`{`), "" },
			state: StateFailed, errText: "handler: result is not valid JSON"},
		{name: "panic fails", f: func(context.Context, Task) (json.RawMessage, string) { panic("boom") },
			state: StateFailed, errText: "handler panicked: boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkLeaks(t)
			r, w := pair(t, nil, []func(*Config){func(cfg *Config) { cfg.Func = c.f }})
			tk, err := r.submit(w, "echo", `{"q":"ping"}`, time.Minute)
			require.NoError(t, err)
			got := r.wait(tk.ID)
			require.Equal(t, c.state, got.State, got.Error)
			require.Equal(t, c.errText, got.Error)
			if c.result != "" {
				require.JSONEq(t, c.result, string(got.Result))
			} else {
				require.Empty(t, got.Result)
			}
			require.NotEmpty(t, got.Receipt, "succeeded and failed tasks carry a receipt")
			require.Equal(t, w.receipt(tk.ID), got.Receipt)
			require.Equal(t, c.state, w.get(tk.ID).State)
		})
	}
}

// TestFuncMaxRunning: no more than MaxRunning Func runs at once; the
// others wait in submitted and run when a slot frees.
func TestFuncMaxRunning(t *testing.T) {
	checkLeaks(t)
	var running, peak atomic.Int32
	release := make(chan struct{})
	f := func(ctx context.Context, _ Task) (json.RawMessage, string) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return json.RawMessage(`true`), ""
	}
	r, w := pair(t, nil, []func(*Config){func(cfg *Config) { cfg.Func = f; cfg.MaxRunning = 2 }})
	var ids []string
	for range 5 {
		tk, err := r.submit(w, "slow", `{}`, time.Minute)
		require.NoError(t, err)
		ids = append(ids, tk.ID)
	}
	require.Eventually(t, func() bool { return running.Load() == 2 }, waitFor, 5*time.Millisecond)
	waiting := 0
	for _, id := range ids {
		if w.state(id) == StateSubmitted {
			waiting++
		}
	}
	require.Equal(t, 3, waiting, "three tasks wait for a slot")
	close(release)
	for _, id := range ids {
		require.Equal(t, StateSucceeded, r.wait(id).State)
	}
	require.Equal(t, int32(2), peak.Load())
}

// TestFuncCancel: a CANCEL from the requester ends the run's context; the
// task ends cancelled on both sides, without a receipt.
func TestFuncCancel(t *testing.T) {
	checkLeaks(t)
	started := make(chan struct{})
	returned := make(chan struct{})
	f := func(ctx context.Context, _ Task) (json.RawMessage, string) {
		close(started)
		<-ctx.Done()
		close(returned)
		return json.RawMessage(`"too late"`), ""
	}
	r, w := pair(t, nil, []func(*Config){func(cfg *Config) { cfg.Func = f }})
	tk, err := r.submit(w, "long", `{}`, time.Minute)
	require.NoError(t, err)
	select {
	case <-started:
	case <-time.After(waitFor):
		t.Fatal("Func never ran")
	}
	got, err := r.svc.Cancel(bg, tk.ID)
	require.NoError(t, err)
	require.Equal(t, StateCancelled, got.State)
	w.waitState(tk.ID, StateCancelled)
	select {
	case <-returned:
	case <-time.After(waitFor):
		t.Fatal("Func's context did not end on cancel")
	}
	require.Empty(t, w.receipt(tk.ID), "no receipt for a cancelled task")
}

func TestFuncConfig(t *testing.T) {
	hst := newHost(t)
	mux := ports.New(hst, nil)
	defer mux.Close()
	db := openDB(t, "")
	defer db.Close()
	f := func(context.Context, Task) (json.RawMessage, string) { return nil, "" }
	_, err := New(Config{DB: db, Mux: mux, Self: hst.ID(), Func: f, Handler: &ExecHandler{Command: []string{"x"}}})
	require.ErrorContains(t, err, "not both")
	_, err = New(Config{DB: db, Mux: mux, Self: hst.ID(), Func: f})
	require.NoError(t, err)
}
