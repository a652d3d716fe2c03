package task

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestManualLifecycle: submit → the worker sees it → accept → complete →
// the requester's Wait returns it succeeded with the result and the
// receipt the worker signed, over the same hash on both sides.
func TestManualLifecycle(t *testing.T) {
	checkLeaks(t)
	r, w := pair(t, nil, nil)

	submitted, err := r.submit(w, "summarise.v2", `{"text": "a long story", "n": [1, 2, 3]}`, time.Minute)
	require.NoError(t, err)
	require.True(t, validID(submitted.ID))
	require.Equal(t, StateSubmitted, submitted.State)
	require.Equal(t, RoleRequester, submitted.Role)
	require.Equal(t, r.id(), submitted.Requester)
	require.Equal(t, w.id(), submitted.Worker)
	require.Equal(t, time.Minute, submitted.Deadline.Sub(submitted.SubmittedAt))

	// The worker has it, waiting for a decision.
	list, err := w.svc.List(ListFilter{Role: RoleWorker, State: StateSubmitted, Full: true})
	require.NoError(t, err)
	require.Len(t, list, 1)
	got := list[0]
	require.Equal(t, submitted.ID, got.ID)
	require.Equal(t, RoleWorker, got.Role)
	require.JSONEq(t, string(submitted.Input), string(got.Input))
	require.Equal(t, submitted.Input, got.Input, "the input bytes travel unchanged")
	require.Equal(t, submitted.SubmittedAt, got.SubmittedAt)
	require.Equal(t, submitted.Deadline, got.Deadline)
	require.Equal(t, submitted.Hash(), got.Hash(), "both sides compute the same hash")

	executing, err := w.svc.Accept(bg, got.ID)
	require.NoError(t, err)
	require.Equal(t, StateExecuting, executing.State)
	r.waitState(got.ID, StateExecuting)

	result := json.RawMessage(`{"summary":"short"}`)
	done, err := w.svc.Complete(bg, got.ID, result, "")
	require.NoError(t, err)
	require.Equal(t, StateSucceeded, done.State)
	require.NotEmpty(t, w.receipt(got.ID), "SignReceipt was called")
	require.Equal(t, w.receipt(got.ID), done.Receipt)

	final := r.wait(got.ID)
	require.Equal(t, StateSucceeded, final.State)
	require.JSONEq(t, string(result), string(final.Result))
	require.Equal(t, w.receipt(got.ID), final.Receipt, "the requester holds the worker's receipt")
	h, rh := final.Hash(), ResultHash(final.Result, final.Error)
	require.Contains(t, string(final.Receipt), hex.EncodeToString(h[:]), "signed over the requester's hash")
	require.Contains(t, string(final.Receipt), hex.EncodeToString(rh[:]), "and the requester's result hash")

	fr := r.nextFinished()
	require.Equal(t, got.ID, fr.ID)
	require.Equal(t, w.receipt(got.ID), fr.Receipt)
	fw := w.nextFinished()
	require.Equal(t, StateSucceeded, fw.State)

	require.Equal(t, uint64(1), w.svc.Stats()[StatAdmitted])
	require.Equal(t, uint64(1), w.svc.Stats()[StatSucceeded])
	require.Equal(t, uint64(1), r.svc.Stats()[StatSucceeded])
	w.waitStat(StatDelivered, 1)
}

func TestDeclineAndWorkerCancel(t *testing.T) {
	checkLeaks(t)
	r, w := pair(t, nil, nil)

	a, err := r.submit(w, "render", `"scene 1"`, time.Minute)
	require.NoError(t, err)
	w.waitState(a.ID, StateSubmitted)
	_, err = w.svc.Decline(bg, a.ID, "busy with\nother work")
	require.NoError(t, err)
	got := r.wait(a.ID)
	require.Equal(t, StateDeclined, got.State)
	require.Equal(t, "busy with other work", got.Error)

	b, err := r.submit(w, "render", `"scene 2"`, time.Minute)
	require.NoError(t, err)
	w.waitState(b.ID, StateSubmitted)
	_, err = w.svc.Accept(bg, b.ID)
	require.NoError(t, err)
	_, err = w.svc.Cancel(bg, b.ID)
	require.NoError(t, err)
	got = r.wait(b.ID)
	require.Equal(t, StateCancelled, got.State)
	require.Equal(t, "cancelled by the worker", got.Error)
}

// TestIllegalTransitions: every operation outside the lifecycle or the
// local role is refused and changes nothing.
func TestIllegalTransitions(t *testing.T) {
	checkLeaks(t)
	r, w := pair(t, nil, nil)
	tk, err := r.submit(w, "t", `1`, time.Minute)
	require.NoError(t, err)
	id := tk.ID
	w.waitState(id, StateSubmitted)

	_, err = w.svc.Complete(bg, id, nil, "")
	require.ErrorIs(t, err, ErrIllegalTransition, "complete before accept")
	_, err = r.svc.Accept(bg, id)
	require.ErrorIs(t, err, ErrWrongRole, "the requester cannot accept")
	_, err = r.svc.Decline(bg, id, "no")
	require.ErrorIs(t, err, ErrWrongRole)
	_, err = r.svc.Complete(bg, id, nil, "")
	require.ErrorIs(t, err, ErrWrongRole)

	_, err = w.svc.Accept(bg, id)
	require.NoError(t, err)
	_, err = w.svc.Accept(bg, id)
	require.ErrorIs(t, err, ErrIllegalTransition, "accept twice")
	_, err = w.svc.Decline(bg, id, "too late")
	require.ErrorIs(t, err, ErrIllegalTransition, "decline while executing")
	_, err = w.svc.Complete(bg, id, json.RawMessage(`{"a":`), "")
	require.ErrorIs(t, err, ErrInvalid, "result not JSON")
	require.Equal(t, StateExecuting, w.state(id))

	_, err = w.svc.Complete(bg, id, json.RawMessage(`true`), "")
	require.NoError(t, err)
	_, err = w.svc.Complete(bg, id, json.RawMessage(`false`), "")
	require.ErrorIs(t, err, ErrIllegalTransition, "complete twice")
	_, err = w.svc.Cancel(bg, id)
	require.ErrorIs(t, err, ErrIllegalTransition, "cancel a finished task")
	require.Equal(t, json.RawMessage(`true`), w.get(id).Result)
	require.Equal(t, StateSucceeded, r.wait(id).State)
	_, err = r.svc.Cancel(bg, id)
	require.ErrorIs(t, err, ErrIllegalTransition)

	_, err = w.svc.Get("0123456789abcdef0123456789abcdef")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = w.svc.Get("../x")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = w.svc.Accept(bg, "0123456789abcdef0123456789abcdef")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestSubmitValidation(t *testing.T) {
	checkLeaks(t)
	r, w := pair(t, nil, nil)
	for name, c := range map[string]struct {
		typ, input string
		timeout    time.Duration
		self       bool
	}{
		"empty type":     {"", `1`, time.Minute, false},
		"upper case":     {"Summarise", `1`, time.Minute, false},
		"space":          {"a b", `1`, time.Minute, false},
		"long type":      {string(make([]byte, 65)), `1`, time.Minute, false},
		"bad json":       {"t", `{"a":`, time.Minute, false},
		"empty input":    {"t", ``, time.Minute, false},
		"huge input":     {"t", `"` + string(make([]byte, MaxInput)) + `"`, time.Minute, false},
		"negative":       {"t", `1`, -time.Second, false},
		"too long":       {"t", `1`, MaxTimeout + time.Second, false},
		"submit to self": {"t", `1`, time.Minute, true},
	} {
		to := w
		if c.self {
			to = r
		}
		_, err := r.submit(to, c.typ, c.input, c.timeout)
		require.ErrorIs(t, err, ErrInvalid, name)
	}
	require.Zero(t, w.keys(), "nothing reached the worker")
	require.Zero(t, r.keys(), "nothing stored")
}

func TestStateMachine(t *testing.T) {
	all := []State{StateSubmitted, StateAccepted, StateDeclined, StateExecuting, StateSucceeded, StateFailed, StateCancelled, StateExpired}
	legal := map[string]bool{
		"submitted→accepted": true, "submitted→declined": true, "submitted→cancelled": true, "submitted→expired": true,
		"accepted→executing": true, "accepted→cancelled": true, "accepted→expired": true,
		"executing→succeeded": true, "executing→failed": true, "executing→cancelled": true, "executing→expired": true,
	}
	for _, from := range all {
		require.True(t, from.Valid())
		require.Equal(t, from == StateDeclined || from == StateSucceeded || from == StateFailed ||
			from == StateCancelled || from == StateExpired, from.Terminal(), from)
		for _, to := range all {
			require.Equal(t, legal[fmt.Sprintf("%s→%s", from, to)], from.CanMoveTo(to), "%s → %s", from, to)
		}
	}
	require.False(t, State("done").Valid())
	require.True(t, StateSubmitted.reaches(StateSucceeded))
	require.True(t, StateAccepted.reaches(StateFailed))
	require.False(t, StateAccepted.reaches(StateDeclined))
	require.False(t, StateSucceeded.reaches(StateFailed))
	require.False(t, StateExecuting.reaches(StateAccepted))
}
