package badgerds_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/pilot-agents/pilot/dht/badgerds"
)

func mustPut(t testing.TB, d ds.Datastore, key, value string) {
	t.Helper()
	if err := d.Put(context.Background(), ds.NewKey(key), []byte(value)); err != nil {
		t.Fatal(err)
	}
}

// keys returns the sorted keys a full query of d finds.
func keys(t testing.TB, d ds.Datastore, q query.Query) []string {
	t.Helper()
	res, err := d.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	es, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.Key)
	}
	return out
}

func TestPrefixIsolation(t *testing.T) {
	ctx := t.Context()
	db := memDB(t)
	a, b, ab, root := badgerds.New(db, "/a"), badgerds.New(db, "/b"), badgerds.New(db, "/ab"), badgerds.New(db, "")
	for name, d := range map[string]ds.Datastore{"a": a, "b": b, "ab": ab} {
		mustPut(t, d, "/k", name)
		mustPut(t, d, "/dir/"+name, name)
	}
	mustPut(t, root, "/a", "root") // the prefix itself, as a key of the root store
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("raw"), nil) }); err != nil {
		t.Fatal(err)
	}

	for name, d := range map[string]ds.Datastore{"a": a, "b": b, "ab": ab} {
		if v, err := d.Get(ctx, ds.NewKey("/k")); err != nil || string(v) != name {
			t.Errorf("%s: Get /k = %q, %v; want %q", name, v, err, name)
		}
		want := fmt.Sprint([]string{"/dir/" + name, "/k"})
		if got := fmt.Sprint(keys(t, d, query.Query{})); got != want {
			t.Errorf("%s: query sees %s, want %s", name, got, want)
		}
		if got := fmt.Sprint(keys(t, d, query.Query{Prefix: "/dir", KeysOnly: true})); got != fmt.Sprint([]string{"/dir/" + name}) {
			t.Errorf("%s: prefix query sees %s", name, got)
		}
	}
	// Equivalent spellings of a prefix name the same namespace.
	if v, err := badgerds.New(db, "a/").Get(ctx, ds.NewKey("k")); err != nil || string(v) != "a" {
		t.Errorf(`New(db, "a/").Get(k) = %q, %v`, v, err)
	}
	// The root store sees every namespace (but not non-datastore keys).
	want := "[/a /a/dir/a /a/k /ab/dir/ab /ab/k /b/dir/b /b/k]"
	if got := fmt.Sprint(keys(t, root, query.Query{})); got != want {
		t.Errorf("root query sees %s, want %s", got, want)
	}
	// Deleting in one namespace leaves the others alone.
	if err := a.Delete(ctx, ds.NewKey("/k")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, ds.NewKey("/k")); err != ds.ErrNotFound {
		t.Errorf("a: Get after Delete: %v", err)
	}
	for _, d := range []ds.Datastore{b, ab} {
		if ok, err := d.Has(ctx, ds.NewKey("/k")); !ok || err != nil {
			t.Errorf("Has /k in a neighbour after a.Delete = %v, %v", ok, err)
		}
	}
}

func TestValuesAreCopied(t *testing.T) {
	ctx := t.Context()
	d := badgerds.New(memDB(t), "/c")
	buf := []byte("hello")
	if err := d.Put(ctx, ds.NewKey("k"), buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXX") // the caller reuses its buffer
	v, err := d.Get(ctx, ds.NewKey("k"))
	if err != nil || string(v) != "hello" {
		t.Fatalf("Get = %q, %v; want hello", v, err)
	}
	copy(v, "YYYYY") // the caller scribbles over what Get returned
	if v, _ := d.Get(ctx, ds.NewKey("k")); string(v) != "hello" {
		t.Fatalf("Get after modifying an earlier result = %q", v)
	}
	// An empty value is found, and reads back as empty but non-nil.
	if err := d.Put(ctx, ds.NewKey("empty"), nil); err != nil {
		t.Fatal(err)
	}
	if v, err := d.Get(ctx, ds.NewKey("empty")); err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get empty = %#v, %v", v, err)
	}
	if n, err := d.GetSize(ctx, ds.NewKey("empty")); err != nil || n != 0 {
		t.Fatalf("GetSize empty = %d, %v", n, err)
	}
}

// TestInMemoryValueLimit checks that values an in-memory database cannot
// hold are errors. Badger v4.9.6 itself panics on a 100-byte value with a
// ValueThreshold of 64, and crashes on one of 1 MiB with the default.
func TestInMemoryValueLimit(t *testing.T) {
	ctx := t.Context()
	for _, tc := range []struct {
		threshold int64
		ok, big   int
	}{{64, 63, 100}, {1 << 20, 1<<20 - 1, 1 << 20}} {
		opts := badger.DefaultOptions("").WithInMemory(true).WithValueThreshold(tc.threshold)
		d := badgerds.New(openDB(t, opts), "/m")
		if err := d.Put(ctx, ds.NewKey("ok"), make([]byte, tc.ok)); err != nil {
			t.Fatal(err)
		}
		if err := d.Put(ctx, ds.NewKey("big"), make([]byte, tc.big)); err == nil {
			t.Fatalf("Put of %d bytes with ValueThreshold %d succeeded", tc.big, tc.threshold)
		}
		b, err := d.Batch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = b.Put(ctx, ds.NewKey("big"), make([]byte, tc.big))
		if err == nil {
			err = b.Commit(ctx)
		}
		if err == nil {
			t.Fatalf("batch with %d bytes, ValueThreshold %d succeeded", tc.big, tc.threshold)
		}
		if ok, err := d.Has(ctx, ds.NewKey("big")); ok || err != nil {
			t.Fatalf("Has big = %v, %v", ok, err)
		}
	}
}

// TestSizesOfValueLogValues checks exact sizes for values Badger keeps in
// its value log, where its own Item.ValueSize is only an estimate.
func TestSizesOfValueLogValues(t *testing.T) {
	ctx := t.Context()
	d := badgerds.New(openDB(t, badger.DefaultOptions(t.TempDir()).WithValueThreshold(64)), "/s")
	sizes := map[string]int{"/a": 0, "/b": 10, "/c": 100, "/d": 5000}
	for k, n := range sizes {
		if err := d.Put(ctx, ds.NewKey(k), bytes.Repeat([]byte{'v'}, n)); err != nil {
			t.Fatal(err)
		}
		if got, err := d.GetSize(ctx, ds.NewKey(k)); err != nil || got != n {
			t.Errorf("GetSize %s = %d, %v; want %d", k, got, err, n)
		}
	}
	for _, q := range []query.Query{{KeysOnly: true, ReturnsSizes: true}, {}, {KeysOnly: true}} {
		res, err := d.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		es, err := res.Rest()
		if err != nil || len(es) != len(sizes) {
			t.Fatalf("%s: %d entries, %v", q, len(es), err)
		}
		for _, e := range es {
			want := sizes[e.Key]
			if q.KeysOnly && !q.ReturnsSizes {
				want = -1 // not known without reading the value log
			}
			if e.Size != want || (e.Value != nil) == q.KeysOnly {
				t.Errorf("%s: %s has size %d (want %d), value %d bytes", q, e.Key, e.Size, want, len(e.Value))
			}
		}
	}
}

func TestPersistence(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	opts := badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil)
	db, err := badger.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	d := badgerds.New(db, "/dht")
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		mustPut(t, d, fmt.Sprintf("/put/%d", i), fmt.Sprint("value ", i))
		if err := b.Put(ctx, ds.NewKey(fmt.Sprintf("/batch/%d", i)), []byte(fmt.Sprint("batched ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, ds.NewKey("/put/0")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if db.IsClosed() {
		t.Fatal("Datastore.Close closed the database it does not own")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	d = badgerds.New(openDB(t, opts), "/dht")
	for i := range 50 {
		v, err := d.Get(ctx, ds.NewKey(fmt.Sprintf("/put/%d", i)))
		if i == 0 {
			if err != ds.ErrNotFound {
				t.Errorf("deleted key after reopen: %q, %v", v, err)
			}
		} else if want := fmt.Sprint("value ", i); err != nil || string(v) != want {
			t.Errorf("/put/%d after reopen = %q, %v; want %q", i, v, err, want)
		}
		v, err = d.Get(ctx, ds.NewKey(fmt.Sprintf("/batch/%d", i)))
		if want := fmt.Sprint("batched ", i); err != nil || string(v) != want {
			t.Errorf("/batch/%d after reopen = %q, %v; want %q", i, v, err, want)
		}
	}
	if n := len(keys(t, d, query.Query{KeysOnly: true})); n != 99 {
		t.Errorf("query after reopen finds %d keys, want 99", n)
	}
	if n, err := d.DiskUsage(ctx); err != nil {
		t.Errorf("DiskUsage: %d, %v", n, err)
	}
}
