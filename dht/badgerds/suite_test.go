package badgerds_test

import (
	"testing"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	dstest "github.com/ipfs/go-datastore/test"

	"github.com/pilot-agents/pilot/dht/badgerds"
)

// openDB opens a Badger database for a test and closes it at cleanup.
func openDB(t testing.TB, opts badger.Options) *badger.DB {
	t.Helper()
	db, err := badger.Open(opts.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func memDB(t testing.TB) *badger.DB {
	return openDB(t, badger.DefaultOptions("").WithInMemory(true))
}

func diskDB(t testing.TB) *badger.DB {
	return openDB(t, badger.DefaultOptions(t.TempDir()))
}

// TestSuite runs go-datastore's conformance suite against in-memory and
// on-disk databases, with and without a prefix. The prefixed runs share the
// database with neighbours whose keys the suite must never see: its clearDs
// deletes whatever a full query returns and its checks count results.
func TestSuite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		open   func(testing.TB) *badger.DB
		prefix string
	}{
		{"memory", memDB, ""},
		{"memory/prefix", memDB, "/dht"},
		{"disk", diskDB, "/"},
		{"disk/prefix", diskDB, "dht/records/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := tc.open(t)
			if p := ds.NewKey(tc.prefix).String(); p != "/" {
				putNeighbours(t, db, p)
			}
			d := badgerds.New(db, tc.prefix)
			dstest.SubtestAll(t, d)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// putNeighbours writes keys next to, but outside, the namespace prefix:
// under prefixes that share bytes with it, and prefix itself as a key.
func putNeighbours(t *testing.T, db *badger.DB, prefix string) {
	t.Helper()
	ctx := t.Context()
	for _, p := range []string{prefix[:len(prefix)-1], prefix + "x", prefix + "0", "/"} {
		n := badgerds.New(db, p)
		for _, k := range []string{"/prefix/0key0", "/0key0", prefix} {
			if err := n.Put(ctx, ds.NewKey(k), []byte(p)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A key outside the go-datastore key space entirely.
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("raw"), []byte("x")) }); err != nil {
		t.Fatal(err)
	}
}
