package task

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

func sampleRecord() record {
	return record{V: recordV, ID: "0123456789abcdef0123456789abcdef", Requester: fixedPeers[0].String(),
		Worker: fixedPeers[1].String(), Type: "t", InputLen: 5, ResultLen: 2, State: StateSucceeded, Role: RoleWorker,
		SubmittedMs: 1_760_000_000_000, UpdatedMs: 1_760_000_001_000, DeadlineMs: 1_760_000_060_000,
		Receipt: []byte("r"), StartedMs: 1_760_000_000_500, Seq: 4, Notify: true, NotifyTries: 2}
}

func TestRecordRoundTrip(t *testing.T) {
	e := entry{Task: Task{ID: "0123456789abcdef0123456789abcdef", Requester: fixedPeers[0], Worker: fixedPeers[1],
		Type: "t", Error: "x", State: StateFailed, Role: RoleRequester, SubmittedAt: fromMs(1_760_000_000_000),
		UpdatedAt: fromMs(1_760_000_000_001), Deadline: fromMs(1_760_000_000_002), Receipt: []byte{1}},
		inputLen: 3, resultLen: 0, startedMs: 9, seq: 7, notify: true, notifyTries: 1}
	b, err := encodeRecord(e)
	require.NoError(t, err)
	got, err := decodeRecord(b)
	require.NoError(t, err)
	require.Equal(t, e, got)

	good, err := json.Marshal(sampleRecord())
	require.NoError(t, err)
	_, err = decodeRecord(good)
	require.NoError(t, err)
	for name, edit := range map[string]func(*record){
		"version":           func(r *record) { r.V = 2 },
		"id":                func(r *record) { r.ID = "../../x" },
		"requester":         func(r *record) { r.Requester = "nobody" },
		"same peers":        func(r *record) { r.Worker = r.Requester },
		"type":              func(r *record) { r.Type = "" },
		"state":             func(r *record) { r.State = "done" },
		"role":              func(r *record) { r.Role = "boss" },
		"no input":          func(r *record) { r.InputLen = 0 },
		"huge input":        func(r *record) { r.InputLen = MaxInput + 1 },
		"result len":        func(r *record) { r.ResultLen = -1 },
		"result unfinished": func(r *record) { r.State = StateExecuting },
		"error text":        func(r *record) { r.Error = "a\x00" },
		"times":             func(r *record) { r.DeadlineMs = r.SubmittedMs },
		"updated":           func(r *record) { r.UpdatedMs = 0 },
		"tries":             func(r *record) { r.NotifyTries = -1 },
	} {
		r := sampleRecord()
		edit(&r)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		_, err = decodeRecord(b)
		require.Error(t, err, name)
	}
}

// FuzzDecodeRecord: records read back from Badger never panic the
// decoder, and what it accepts is a task this package could have written.
func FuzzDecodeRecord(f *testing.F) {
	good, err := json.Marshal(sampleRecord())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"v":1,"id":"0123456789abcdef0123456789abcdef","state":"executing","input_len":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeRecord(data)
		if err != nil {
			return
		}
		if !validID(e.ID) || !e.State.Valid() || !e.Role.valid() || CheckType(e.Type) != nil ||
			e.inputLen < 1 || e.inputLen > MaxInput || e.resultLen < 0 || e.resultLen > MaxResult ||
			len(e.Receipt) > MaxReceipt || checkPeers(e.Requester, e.Worker) != nil ||
			!e.Deadline.After(e.SubmittedAt) || checkText("error", e.Error, MaxErrorLen) != nil {
			t.Fatalf("accepted %+v", e)
		}
		b, err := encodeRecord(e)
		if err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
		again, err := decodeRecord(b)
		if err != nil {
			t.Fatalf("re-encoded record refused: %v", err)
		}
		if again.ID != e.ID || again.State != e.State || again.seq != e.seq {
			t.Fatalf("round trip changed the record: %+v → %+v", e, again)
		}
	})
}

// TestScanSweepsOrphans: chunks left by a write interrupted before its
// record are deleted when the service opens; an unreadable record is
// counted and skipped.
func TestScanSweepsOrphans(t *testing.T) {
	checkLeaks(t)
	a := newAgent(t, "")
	require.NoError(t, a.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(chunkKey(newTaskID(), kindInput, 0), []byte(`1`)); err != nil {
			return err
		}
		if err := txn.Set(recordKey(newTaskID()), []byte(`{"v":1}`)); err != nil {
			return err
		}
		return txn.Set(chunkKey("0123456789abcdef0123456789abcdef", kindResult, 3), []byte(`1`))
	}))
	require.Equal(t, 3, a.keys())
	a.restart()
	require.Equal(t, 1, a.keys(), "only the unreadable record is left")
	require.Equal(t, uint64(1), a.svc.Stats()[StatCorrupt])
	list, err := a.svc.List(ListFilter{})
	require.NoError(t, err)
	require.Empty(t, list)
}

// TestPrune: finished tasks older than the retention are deleted with
// their bodies; live ones stay.
func TestPrune(t *testing.T) {
	checkLeaks(t)
	clk := newClock()
	r, w := pair(t, []func(*Config){withClock(clk), func(c *Config) { c.Retention = time.Hour }}, []func(*Config){withClock(clk)})
	old, err := r.submit(w, "t", `1`, 10*time.Hour)
	require.NoError(t, err)
	live, err := r.submit(w, "t", `2`, 10*time.Hour)
	require.NoError(t, err)
	_, err = r.svc.Cancel(bg, old.ID)
	require.NoError(t, err)
	w.waitState(old.ID, StateCancelled)
	r.waitStat(StatDelivered, 1)
	require.Eventually(t, func() bool { e, err := r.svc.load(old.ID, false); return err == nil && !e.notify },
		waitFor, 5*time.Millisecond)
	clk.Add(2 * time.Hour)
	r.svc.prune()
	_, err = r.svc.Get(old.ID)
	require.ErrorIs(t, err, ErrNotFound)
	require.Equal(t, StateSubmitted, r.get(live.ID).State)
	require.Equal(t, 2, r.keys(), "the live task's record and input chunk")
}
