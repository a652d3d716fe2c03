package task

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(c *clock) func(*Config) { return func(cfg *Config) { cfg.Now = c.Now } }

// TestExpiry: a task not finished by its deadline expires on both sides;
// the requester's copy expires on its own when the worker is gone; a
// worker cannot finish a task after its deadline.
func TestExpiry(t *testing.T) {
	checkLeaks(t)
	clk := newClock()
	r, w := pair(t, []func(*Config){withClock(clk)}, []func(*Config){withClock(clk)})

	// The worker expires it and tells the requester.
	a, err := r.submit(w, "t", `1`, time.Minute)
	require.NoError(t, err)
	w.waitState(a.ID, StateSubmitted)
	clk.Add(time.Minute)
	wt := w.waitState(a.ID, StateExpired)
	require.Equal(t, "deadline passed", wt.Error)
	got := r.wait(a.ID)
	require.Equal(t, StateExpired, got.State)
	require.Equal(t, "deadline passed", got.Error)

	// A worker cannot complete after the deadline: the task expires.
	b, err := r.submit(w, "t", `2`, time.Minute)
	require.NoError(t, err)
	w.waitState(b.ID, StateSubmitted)
	_, err = w.svc.Accept(bg, b.ID)
	require.NoError(t, err)
	w.svc.mu.Lock() // keep the sweeper from getting there first
	clk.Add(2 * time.Minute)
	w.svc.deadlines[b.ID] = clk.Now().Add(time.Hour)
	w.svc.mu.Unlock()
	_, err = w.svc.Complete(bg, b.ID, json.RawMessage(`"late"`), "")
	require.ErrorIs(t, err, ErrExpired)
	require.Equal(t, StateExpired, w.get(b.ID).State)
	require.Equal(t, StateExpired, r.wait(b.ID).State)

	// With the worker gone, the requester's copy expires by itself, a
	// grace period after the deadline.
	c, err := r.submit(w, "t", `3`, time.Minute)
	require.NoError(t, err)
	w.waitState(c.ID, StateSubmitted)
	w.stop()
	clk.Add(time.Minute)
	require.Never(t, func() bool { return r.state(c.ID) != StateSubmitted }, 100*time.Millisecond, 10*time.Millisecond,
		"expired before the grace period")
	clk.Add(r.svc.grace)
	require.Equal(t, StateExpired, r.wait(c.ID).State)
	require.Equal(t, uint64(3), r.svc.Stats()[StatExpired])
}

// TestPersistence: both sides keep their tasks across a restart on the
// same on-disk store; a worker restarted while executing fails the task
// with "worker restarted" and tells the requester; an expired deadline is
// applied at start.
func TestPersistence(t *testing.T) {
	checkLeaks(t)
	clk := newClock()
	r := newAgent(t, filepath.Join(t.TempDir(), "r"), withClock(clk))
	w := newAgent(t, filepath.Join(t.TempDir(), "w"), withClock(clk))
	connect(t, r, w)

	big := `{"blob":"` + string(make([]byte, 0)) + bigString(200<<10) + `"}` // several chunks
	done, err := r.submit(w, "t", big, time.Hour)
	require.NoError(t, err)
	running, err := r.submit(w, "t", `"running"`, time.Hour)
	require.NoError(t, err)
	waiting, err := r.submit(w, "t", `"waiting"`, time.Hour)
	require.NoError(t, err)
	short, err := r.submit(w, "t", `"short"`, time.Minute)
	require.NoError(t, err)
	for _, id := range []string{done.ID, running.ID, waiting.ID, short.ID} {
		w.waitState(id, StateSubmitted)
	}
	_, err = w.svc.Accept(bg, done.ID)
	require.NoError(t, err)
	_, err = w.svc.Complete(bg, done.ID, json.RawMessage(`{"out":"`+bigString(700<<10)+`"}`), "")
	require.NoError(t, err)
	require.Equal(t, StateSucceeded, r.wait(done.ID).State)
	_, err = w.svc.Accept(bg, running.ID)
	require.NoError(t, err)
	r.waitState(running.ID, StateExecuting)

	wDone, rDone := w.get(done.ID), r.get(done.ID)
	wWaiting := w.get(waiting.ID)

	w.stop()
	clk.Add(2 * time.Minute) // past short's deadline while the worker is down
	w.restart()

	require.Equal(t, wDone, w.get(done.ID), "a finished task survives intact")
	require.Equal(t, wWaiting, w.get(waiting.ID))
	require.Equal(t, done.Hash(), w.get(done.ID).Hash())

	failed := r.wait(running.ID)
	require.Equal(t, StateFailed, failed.State)
	require.Equal(t, "worker restarted", failed.Error)
	require.Equal(t, w.receipt(running.ID), failed.Receipt)
	require.Equal(t, StateFailed, w.get(running.ID).State)

	require.Equal(t, StateExpired, w.waitState(short.ID, StateExpired).State, "expired at start")
	require.Equal(t, StateExpired, r.wait(short.ID).State)

	// The waiting task can still be done after the restart.
	_, err = w.svc.Accept(bg, waiting.ID)
	require.NoError(t, err)
	_, err = w.svc.Complete(bg, waiting.ID, nil, "could not do it")
	require.NoError(t, err)
	got := r.wait(waiting.ID)
	require.Equal(t, StateFailed, got.State)
	require.Equal(t, "could not do it", got.Error)

	r.restart()
	require.Equal(t, rDone, r.get(done.ID), "the requester's copy survives too")
	require.Equal(t, done.Hash(), r.get(done.ID).Hash())
	list, err := r.svc.List(ListFilter{Role: RoleRequester})
	require.NoError(t, err)
	require.Len(t, list, 4)
	require.Nil(t, list[0].Input, "List omits bodies unless Full")
}

// TestDeliveryResumesAfterRestart: the worker's final UPDATE to a
// requester that is down stays pending across the worker's restart and
// is delivered once both are back.
func TestDeliveryResumesAfterRestart(t *testing.T) {
	checkLeaks(t)
	r := newAgent(t, "")
	w := newAgent(t, filepath.Join(t.TempDir(), "w"), func(c *Config) {
		c.tune = func(s *Service) { fast(s); s.retryBase = time.Hour } // one attempt per run
	})
	connect(t, r, w)
	tk, err := r.submit(w, "t", `1`, time.Hour)
	require.NoError(t, err)
	w.waitState(tk.ID, StateSubmitted)
	_, err = w.svc.Accept(bg, tk.ID)
	require.NoError(t, err)
	r.waitState(tk.ID, StateExecuting)

	r.stop() // the requester goes away: its port closes
	_, err = w.svc.Complete(bg, tk.ID, json.RawMessage(`42`), "")
	require.NoError(t, err)
	w.waitStat(StatRetries, 1)

	w.stop()
	require.NoError(t, w.db.Close())
	w.db = openDB(t, w.dir)
	r.start()
	require.Equal(t, StateExecuting, r.get(tk.ID).State)
	w.start()

	got := r.wait(tk.ID)
	require.Equal(t, StateSucceeded, got.State)
	require.Equal(t, json.RawMessage(`42`), got.Result)
	require.Equal(t, w.receipt(tk.ID), got.Receipt)
	require.Equal(t, tk.ID, w.nextFinished().ID)
	require.Equal(t, uint64(1), w.svc.Stats()[StatDelivered])
}

// TestDeliveryGivesUp: deliveries stop after maxTries attempts.
func TestDeliveryGivesUp(t *testing.T) {
	checkLeaks(t)
	r, w := pair(t, nil, nil)
	tk, err := r.submit(w, "t", `1`, time.Hour)
	require.NoError(t, err)
	w.waitState(tk.ID, StateSubmitted)
	r.stop()
	_, err = w.svc.Decline(bg, tk.ID, "no")
	require.NoError(t, err)
	w.waitStat(StatGaveUp, 1)
	require.Equal(t, uint64(w.svc.maxTries-1), w.svc.Stats()[StatRetries])
	require.Equal(t, tk.ID, w.nextFinished().ID, "OnFinished once delivery is given up")
	e, err := w.svc.load(tk.ID, false)
	require.NoError(t, err)
	require.False(t, e.notify)
}

func bigString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return string(b)
}
