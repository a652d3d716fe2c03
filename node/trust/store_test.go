package trust

import (
	"encoding/json"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

// TestStatePersists: trust, pending counts and the replay watermark come
// back after a restart; IsTrusted works from the reloaded cache.
func TestStatePersists(t *testing.T) {
	checkLeaks(t)
	a, b := newNode(t, nil, t.TempDir()), newNode(t, nil, "")
	b.know(a)
	_, err := b.m.Request(bg, a.id, "hi")
	require.NoError(t, err)
	a.waitState(b.id, StateIncomingPending)
	_, err = a.m.Approve(bg, b.id)
	require.NoError(t, err)
	before, _, err := a.m.Get(b.id)
	require.NoError(t, err)

	a.restart()
	require.True(t, a.m.IsTrusted(b.id))
	after, ok, err := a.m.Get(b.id)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, before.Created.Equal(after.Created))
	require.Equal(t, before.State, after.State)
	require.Equal(t, before.Message, after.Message)
	require.Equal(t, uint64(0), a.m.Stats()["store_corrupt"])
}

func TestCorruptEntriesSkipped(t *testing.T) {
	checkLeaks(t)
	_, good := fixedKey(t, 1)
	db := openDB(t, "")
	defer db.Close()
	goodRec, err := json.Marshal(storedRecord{V: 1, Peer: good.String(), State: StateTrusted, Direction: DirectionOutgoing})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(txn *badger.Txn) error {
		require.NoError(t, txn.Set([]byte(recPrefix+"junk"), []byte("{not json")))
		require.NoError(t, txn.Set([]byte(outPrefix+"junk"), []byte(`{"v":1,"kind":"hug"}`)))
		return txn.Set(recKey(good), goodRec)
	}))
	h := newHost(t, newKey(t))
	defer h.Close()
	m, err := New(Config{Host: h, DB: db})
	require.NoError(t, err)
	require.True(t, m.IsTrusted(good))
	list, err := m.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	out, err := m.Outbox()
	require.NoError(t, err)
	require.Empty(t, out)
	require.Positive(t, m.Stats()["store_corrupt"])
	require.NoError(t, m.Close())
}

func FuzzDecodeRecord(f *testing.F) {
	_, id := fixedKey(f, 1)
	seed, _ := json.Marshal(storedRecord{V: 1, Peer: id.String(), State: StateIncomingPending, Message: "hi", Direction: DirectionIncoming, RecvSeq: 3})
	f.Add(seed)
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if !validState(r.State) || r.id == "" || checkMessage(r.Message) != nil {
			t.Fatalf("accepted invalid record %q", b)
		}
		_ = r.record()
	})
}

func FuzzDecodeOutbox(f *testing.F) {
	_, id := fixedKey(f, 1)
	seed, _ := json.Marshal(storedOutbox{V: 1, Peer: id.String(), Kind: "request", Message: "hi", Gen: 9, Attempts: 2})
	f.Add(seed)
	f.Add([]byte(`{"v":1,"kind":"approve","msg":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeOutbox(b)
		if err != nil {
			return
		}
		if e.kind < KindRequest || e.kind > KindRevoke || e.id == "" || e.Attempts < 0 {
			t.Fatalf("accepted invalid outbox entry %q", b)
		}
		_ = e.entry()
	})
}
