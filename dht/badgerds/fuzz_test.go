package badgerds_test

import (
	"bytes"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/pilot-agents/pilot/dht/badgerds"
)

// FuzzDatastoreRoundTrip puts an arbitrary value under an arbitrary key,
// reads it back, finds it by querying its parent, and deletes it.
func FuzzDatastoreRoundTrip(f *testing.F) {
	for _, k := range []string{"", "/", "foo", "/foo/bar", "a/../b", "/a//b/", "\x00", "/\xff\xfe/x", "..", "/a/./b"} {
		f.Add(k, []byte("value"))
	}
	f.Add("/empty", []byte{})
	db := openDB(f, badger.DefaultOptions("").WithInMemory(true))
	var run atomic.Uint64
	f.Fuzz(func(t *testing.T, s string, value []byte) {
		if len(s) > 4096 || len(value) > 1<<16 {
			t.Skip("larger than Badger's key limit or than worth fuzzing")
		}
		// A fresh namespace per input keeps deleted keys of earlier
		// inputs (Badger tombstones) out of this input's query range.
		d := badgerds.New(db, fmt.Sprint("/fuzz/", run.Add(1)))
		ctx := t.Context()
		key := ds.NewKey(s)
		if err := d.Put(ctx, key, value); err != nil {
			t.Fatalf("Put %q: %v", key, err)
		}
		if got, err := d.Get(ctx, key); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("Get %q = %q, %v; want %q", key, got, err, value)
		}
		if n, err := d.GetSize(ctx, key); err != nil || n != len(value) {
			t.Fatalf("GetSize %q = %d, %v; want %d", key, n, err, len(value))
		}
		found := keys(t, d, query.Query{Prefix: key.Parent().String(), KeysOnly: true})
		if !slices.Equal(found, []string{key.String()}) {
			t.Fatalf("query of parent %q finds %q, want [%q]", key.Parent(), found, key)
		}
		if key.String() != "/" { // a key is not its own child
			if found := keys(t, d, query.Query{Prefix: key.String()}); len(found) != 0 {
				t.Fatalf("query of prefix %q finds %q", key, found)
			}
		}
		if err := d.Delete(ctx, key); err != nil {
			t.Fatalf("Delete %q: %v", key, err)
		}
		if _, err := d.Get(ctx, key); err != ds.ErrNotFound {
			t.Fatalf("Get %q after Delete: %v", key, err)
		}
		if found := keys(t, d, query.Query{}); len(found) != 0 {
			t.Fatalf("query after Delete finds %q", found)
		}
	})
}
