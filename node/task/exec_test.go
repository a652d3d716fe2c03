package task

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

// TestHandlerOutcomes runs tasks through an automatic handler (the test
// binary in helper mode, no shell) and checks what the requester gets.
func TestHandlerOutcomes(t *testing.T) {
	cases := []struct {
		name    string
		handler ExecHandler
		state   State
		result  string // JSON, for succeeded
		errText string // for failed
	}{
		{name: "succeeds", handler: ExecHandler{Command: helperCmd("echo")}, state: StateSucceeded},
		{name: "plain text becomes a JSON string", handler: ExecHandler{Command: helperCmd("text")},
			state: StateSucceeded, result: `"plain words, not JSON\n"`},
		{name: "exit 3", handler: ExecHandler{Command: helperCmd("fail")},
			state: StateFailed, errText: "the real reason: disk full"},
		{name: "timeout", handler: ExecHandler{Command: helperCmd("sleep"), Timeout: 300 * time.Millisecond},
			state: StateFailed, errText: "timed out after 300ms"},
		{name: "output over limit", handler: ExecHandler{Command: helperCmd("big", "5000"), MaxOutput: 1000},
			state: StateFailed, errText: "output over limit"},
		{name: "output at the limit", handler: ExecHandler{Command: helperCmd("big", "998"), MaxOutput: 1000},
			state: StateSucceeded, result: `"` + strings.Repeat("x", 998) + `"`},
		{name: "no such program", handler: ExecHandler{Command: []string{"/nonexistent/pilot-task-handler"}},
			state: StateFailed, errText: "handler: fork/exec /nonexistent/pilot-task-handler: no such file or directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkLeaks(t)
			h := c.handler
			r, w := pair(t, nil, []func(*Config){func(cfg *Config) { cfg.Handler = &h }})
			tk, err := r.submit(w, "echo", `{"q":"ping"}`, time.Minute)
			require.NoError(t, err)
			got := r.wait(tk.ID)
			require.Equal(t, c.state, got.State, got.Error)
			require.Equal(t, c.errText, got.Error)
			switch {
			case c.name == "succeeds":
				var out struct {
					Echo      json.RawMessage `json:"echo"`
					ID        string          `json:"id"`
					Type      string          `json:"type"`
					Requester string          `json:"requester"`
				}
				require.NoError(t, json.Unmarshal(got.Result, &out))
				require.JSONEq(t, `{"q":"ping"}`, string(out.Echo))
				require.Equal(t, tk.ID, out.ID)
				require.Equal(t, "echo", out.Type)
				require.Equal(t, r.id().String(), out.Requester)
			case c.result != "":
				require.JSONEq(t, c.result, string(got.Result))
			default:
				require.Empty(t, got.Result)
			}
			require.NotEmpty(t, got.Receipt, "succeeded and failed tasks carry a receipt")
			require.Equal(t, w.receipt(tk.ID), got.Receipt)
			require.Equal(t, c.state, w.get(tk.ID).State)
		})
	}
}

// TestCancelKillsHandler: a CANCEL from the requester while the command
// runs kills its whole process group; both sides end cancelled.
func TestCancelKillsHandler(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	checkLeaks(t)
	pids := filepath.Join(t.TempDir(), "pids")
	h := ExecHandler{Command: helperCmd("spawn", pids)}
	r, w := pair(t, nil, []func(*Config){func(cfg *Config) { cfg.Handler = &h }})
	tk, err := r.submit(w, "long", `{}`, time.Minute)
	require.NoError(t, err)

	var parent, child int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pids)
		if err != nil {
			return false
		}
		f := strings.Fields(string(b))
		if len(f) != 2 {
			return false
		}
		parent, _ = strconv.Atoi(f[0])
		child, _ = strconv.Atoi(f[1])
		return true
	}, waitFor, 5*time.Millisecond, "the command never started")
	require.True(t, alive(parent) && alive(child))
	r.waitState(tk.ID, StateExecuting)

	got, err := r.svc.Cancel(bg, tk.ID)
	require.NoError(t, err)
	require.Equal(t, StateCancelled, got.State)
	require.Equal(t, "cancelled by the requester", got.Error)
	wt := w.waitState(tk.ID, StateCancelled)
	require.Equal(t, "cancelled by the requester", wt.Error)
	require.Eventually(t, func() bool { return !alive(parent) && !alive(child) }, waitFor, 5*time.Millisecond,
		"the command or its child survived the cancel")
	require.Empty(t, w.receipt(tk.ID), "no receipt for a cancelled task")
	r.waitStat(StatDelivered, 1)
	require.Equal(t, uint64(1), w.svc.Stats()[StatCancels])
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func TestExecHandlerConfig(t *testing.T) {
	hst := newHost(t)
	mux := ports.New(hst, nil)
	defer mux.Close()
	db := openDB(t, "")
	defer db.Close()
	_, err := New(Config{DB: db, Mux: mux, Self: hst.ID(), Handler: &ExecHandler{Command: []string{"x"}}})
	require.NoError(t, err)
	for _, h := range []ExecHandler{{}, {Command: []string{""}}, {Command: []string{"x"}, Timeout: -1},
		{Command: []string{"x"}, MaxOutput: MaxResult + 1}} {
		_, err := New(Config{DB: db, Mux: mux, Self: hst.ID(), Handler: &h})
		require.ErrorContains(t, err, "Config.Handler", "%+v", h)
	}
	// Run refuses a bad handler with an error text instead of panicking.
	_, errText, _ := (&ExecHandler{}).Run(bg, Task{})
	require.Equal(t, "handler: no command", errText)
}
