package task

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// TestGateDeclines: a worker whose gate refuses the requester stores
// nothing, and the requester's Submit fails with the gate's reason.
func TestGateDeclines(t *testing.T) {
	checkLeaks(t)
	var asked []peer.ID
	r, w := pair(t, nil, []func(*Config){func(c *Config) {
		c.Gate = func(p peer.ID) (bool, string) {
			asked = append(asked, p) // one submission at a time here
			return false, "polo 0.12 below the minimum 0.50"
		}
	}})
	tk, err := r.submit(w, "t", `{"x":1}`, time.Minute)
	require.ErrorIs(t, err, ErrDeclined)
	require.ErrorIs(t, err, ErrRejected)
	var re *RemoteError
	require.ErrorAs(t, err, &re)
	require.Equal(t, StatusDeclined, re.Status)
	require.Equal(t, "polo 0.12 below the minimum 0.50", re.Reason)
	require.Contains(t, err.Error(), "polo 0.12 below the minimum 0.50")

	require.Equal(t, []peer.ID{r.id()}, asked)
	require.Zero(t, w.keys(), "the worker stores nothing")
	require.Equal(t, uint64(1), w.svc.Stats()[StatDeclinedGate])
	require.Zero(t, w.svc.Stats()[StatAdmitted])

	// The requester keeps the task as declined, with the reason.
	require.Equal(t, StateDeclined, tk.State)
	require.Equal(t, StateDeclined, r.get(tk.ID).State)
	require.Contains(t, r.get(tk.ID).Error, "polo 0.12")
	require.Equal(t, StateDeclined, r.wait(tk.ID).State)
}

// TestHostilePeer: a third peer forging UPDATEs and CANCELs for tasks it
// is not party to, unknown IDs, spoofed submissions and garbage are all
// refused, counted, and change nothing.
func TestHostilePeer(t *testing.T) {
	checkLeaks(t)
	r, w := pair(t, nil, nil)
	m := newAgent(t, "")
	connect(t, m, r)
	connect(t, m, w)

	tk, err := r.submit(w, "t", `{"x":1}`, time.Minute)
	require.NoError(t, err)
	id := tk.ID
	w.waitState(id, StateSubmitted)
	_, err = w.svc.Accept(bg, id)
	require.NoError(t, err)
	r.waitState(id, StateExecuting)
	rBefore, wBefore := r.get(id), w.get(id)

	forged := Frame{Type: FrameUpdate, Task: Task{ID: id, State: StateSucceeded, Result: json.RawMessage(`"forged"`), Receipt: []byte("fake")}}
	resp := m.send(r, forged)
	require.Equal(t, StatusUnknownTask, resp.Status, "UPDATE from a peer that is not the worker")
	require.Equal(t, uint64(1), r.svc.Stats()[StatWrongPeer])

	resp = m.send(w, Frame{Type: FrameCancel, Task: Task{ID: id}})
	require.Equal(t, StatusUnknownTask, resp.Status, "CANCEL from a peer that is not the requester")
	require.Equal(t, uint64(1), w.svc.Stats()[StatWrongPeer])

	// The real parties in the wrong direction: the requester cannot
	// UPDATE, the worker cannot CANCEL.
	resp = r.send(w, forged)
	require.Equal(t, StatusUnknownTask, resp.Status, "UPDATE to the worker's own task")
	resp = w.send(r, Frame{Type: FrameCancel, Task: Task{ID: id}})
	require.Equal(t, StatusUnknownTask, resp.Status, "CANCEL to the requester's own task")

	unknown := newTaskID()
	resp = m.send(r, Frame{Type: FrameUpdate, Task: Task{ID: unknown, State: StateFailed, Error: "x"}})
	require.Equal(t, StatusUnknownTask, resp.Status)
	resp = m.send(w, Frame{Type: FrameCancel, Task: Task{ID: unknown}})
	require.Equal(t, StatusUnknownTask, resp.Status)
	require.Equal(t, uint64(1), r.svc.Stats()[StatUnknownTask])
	require.Equal(t, uint64(1), w.svc.Stats()[StatUnknownTask])

	// A SUBMIT naming another requester, another worker, or reusing a
	// live task's ID.
	now := time.Now().UTC()
	spoof := Frame{Type: FrameSubmit, Task: Task{ID: newTaskID(), Requester: r.id(), Worker: w.id(), Type: "t",
		Input: json.RawMessage(`1`), SubmittedAt: now, Deadline: now.Add(time.Minute)}}
	resp = m.send(w, spoof)
	require.Equal(t, StatusBadFrame, resp.Status)
	require.Contains(t, resp.Reason, "requester field is not the sender")
	spoof.Task.Requester, spoof.Task.Worker = m.id(), r.id()
	resp = m.send(w, spoof)
	require.Equal(t, StatusBadFrame, resp.Status)
	require.Contains(t, resp.Reason, "worker field is not this node")
	spoof.Task.Worker, spoof.Task.ID = w.id(), id
	resp = m.send(w, spoof)
	require.Equal(t, StatusConflict, resp.Status)
	require.Contains(t, resp.Reason, "already in use")
	spoof.Task.ID, spoof.Task.Deadline = newTaskID(), now.Add(-time.Millisecond)
	spoof.Task.SubmittedAt = now.Add(-time.Minute)
	resp = m.send(w, spoof)
	require.Equal(t, StatusConflict, resp.Status)
	require.Contains(t, resp.Reason, "deadline")

	// Garbage.
	for _, g := range [][]byte{
		[]byte("GET / HTTP/1.1\r\n\r\n"),
		{Version, byte(FrameUpdate), 0xff, 0xff, 0xff, 0xff}, // 4 GiB declared: refused before allocation
		{Version, 9, 0, 0, 0, 0},
		{2, byte(FrameCancel), 0, 0, 0, 0},
		{Version, byte(FrameCancel), 0, 0, 0, 1, 0},
		{},
	} {
		resp, err := m.raw(w, g)
		require.NoError(t, err)
		require.Equal(t, StatusBadFrame, resp.Status, "%q", g)
	}
	enc, err := EncodeFrame(Frame{Type: FrameCancel, Task: Task{ID: id}})
	require.NoError(t, err)
	resp, err = m.raw(w, append(enc, 'x'))
	require.NoError(t, err)
	require.Equal(t, StatusBadFrame, resp.Status)
	require.Contains(t, resp.Reason, "after the frame")
	require.Equal(t, uint64(2+6+1), w.svc.Stats()[StatBadFrame])

	require.Equal(t, rBefore, r.get(id), "the requester's task did not change")
	require.Equal(t, wBefore, w.get(id), "the worker's task did not change")
	require.Equal(t, uint64(1), w.svc.Stats()[StatAdmitted], "nothing else was admitted")

	// The real parties still finish the task.
	_, err = w.svc.Complete(bg, id, json.RawMessage(`"real"`), "")
	require.NoError(t, err)
	require.Equal(t, json.RawMessage(`"real"`), r.wait(id).Result)
}

// TestFloodOverMaxPending: a peer over its quota of pending tasks is
// refused as too many, and nothing of it is stored.
func TestFloodOverMaxPending(t *testing.T) {
	checkLeaks(t)
	w := newAgent(t, "", func(c *Config) { c.MaxPending = 3; c.MaxPendingTotal = 5 })
	m1, m2 := newAgent(t, ""), newAgent(t, "")
	connect(t, m1, w)
	connect(t, m2, w)

	submit := func(from *agent) Response {
		now := time.Now().UTC()
		return from.send(w, Frame{Type: FrameSubmit, Task: Task{ID: newTaskID(), Requester: from.id(), Worker: w.id(),
			Type: "flood", Input: json.RawMessage(`1`), SubmittedAt: now, Deadline: now.Add(time.Minute)}})
	}
	for i := range 10 {
		resp := submit(m1)
		if i < 3 {
			require.Equal(t, StatusOK, resp.Status, i)
		} else {
			require.Equal(t, StatusTooMany, resp.Status, i)
			require.Contains(t, resp.Reason, "max 3")
		}
	}
	require.Equal(t, StatusOK, submit(m2).Status)
	require.Equal(t, StatusOK, submit(m2).Status)
	resp := submit(m2)
	require.Equal(t, StatusTooMany, resp.Status, "the total quota")
	require.Contains(t, resp.Reason, "max 5")
	require.Equal(t, uint64(8), w.svc.Stats()[StatTooMany])
	require.Equal(t, uint64(5), w.svc.Stats()[StatAdmitted])
	list, err := w.svc.List(ListFilter{})
	require.NoError(t, err)
	require.Len(t, list, 5)

	// Finishing a task frees a place.
	_, err = w.svc.Decline(bg, list[0].ID, "no")
	require.NoError(t, err)
	from := m1
	if list[0].Requester == m2.id() {
		from = m2
	}
	require.Equal(t, StatusOK, submit(from).Status)

	// The Submit API maps the refusal.
	_, err = m1.submit(w, "flood", `1`, time.Minute)
	require.ErrorIs(t, err, ErrTooMany)
}
