package peerbook

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// t0 is the tests' fixed "now".
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)

func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// memDB opens an in-memory database; the caller closes it.
func memDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	require.NoError(t, err)
	return db
}

// diskDB opens dir with synchronous writes, as the node does; the caller
// closes it.
func diskDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil).
		WithMemTableSize(1 << 20).WithValueLogFileSize(1 << 20).WithValueThreshold(64 << 10))
	require.NoError(t, err)
	return db
}

func newID(t testing.TB) peer.ID {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return id
}

func addr(t testing.TB, s string) ma.Multiaddr {
	t.Helper()
	a, err := ma.NewMultiaddr(s)
	require.NoError(t, err)
	return a
}

// entry is a valid entry for a fresh peer seen at seen.
func entry(t testing.TB, seen time.Time, server bool) Entry {
	t.Helper()
	return Entry{
		ID:       newID(t),
		Addrs:    []ma.Multiaddr{addr(t, "/ip4/192.0.2.1/udp/4001/quic-v1"), addr(t, "/ip6/2001:db8::1/tcp/4001")},
		LastSeen: seen,
		Server:   server,
	}
}

// fixedClock is an Options.Now that tests can move.
type fixedClock struct{ now time.Time }

func (c *fixedClock) Now() time.Time { return c.now }

// rawKeys returns every key under the book's prefix.
func rawKeys(t testing.TB, db *badger.DB) []string {
	t.Helper()
	var keys []string
	require.NoError(t, db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(keyPrefix)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, string(it.Item().KeyCopy(nil)))
		}
		return nil
	}))
	return keys
}

func putRaw(t testing.TB, db *badger.DB, key, value []byte) {
	t.Helper()
	require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }))
}

// requireSame checks got and want hold the same entries in the same order.
func requireSame(t testing.TB, want, got []Entry) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.ID, g.ID, "entry %d", i)
		require.True(t, w.LastSeen.Equal(g.LastSeen), "entry %d: LastSeen %v, want %v", i, g.LastSeen, w.LastSeen)
		require.Equal(t, w.Server, g.Server, "entry %d", i)
		require.Len(t, g.Addrs, len(w.Addrs), "entry %d", i)
		for j := range w.Addrs {
			require.True(t, w.Addrs[j].Equal(g.Addrs[j]), "entry %d addr %d: %s, want %s", i, j, g.Addrs[j], w.Addrs[j])
		}
	}
}

func ids(entries []Entry) []peer.ID {
	out := make([]peer.ID, len(entries))
	for i, e := range entries {
		out[i] = e.ID
	}
	return out
}
