package badgerds_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/pilot-agents/pilot/dht/badgerds"
)

func TestBatchUncommittedWritesNothing(t *testing.T) {
	ctx := t.Context()
	d := badgerds.New(memDB(t), "/b")
	mustPut(t, d, "/keep", "v")
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := b.Put(ctx, ds.NewKey(fmt.Sprint("/new/", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, ds.NewKey("/keep")); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, d, query.Query{}); len(got) != 1 || got[0] != "/keep" {
		t.Fatalf("before Commit the datastore holds %v", got)
	}
	if _, err := d.Get(ctx, ds.NewKey("/new/0")); err != ds.ErrNotFound {
		t.Fatalf("Get of an uncommitted put: %v", err)
	}
}

// TestBatchLargerThanATransaction commits a batch that Badger cannot take
// in one transaction (tiny memtable, so a small maximum batch size).
func TestBatchLargerThanATransaction(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, badger.DefaultOptions("").WithInMemory(true).
		WithMemTableSize(1<<20).WithValueThreshold(1<<10)) // max txn ≈ 15% of the memtable
	d := badgerds.New(db, "/big")
	const n = 2000
	key := func(i int) ds.Key { return ds.NewKey(fmt.Sprintf("/k/%05d", i)) }
	value := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 500) }

	// The premise: one transaction cannot hold it all.
	err := db.Update(func(txn *badger.Txn) error {
		for i := range n {
			if err := txn.Set([]byte("/big"+key(i).String()), value(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if !errors.Is(err, badger.ErrTxnTooBig) {
		t.Fatalf("one transaction with %d entries: %v, want ErrTxnTooBig", n, err)
	}

	for i := range 10 {
		mustPut(t, d, fmt.Sprint("/old/", i), "old")
	}
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 500)
	for i := range n {
		copy(buf, value(i)) // Put must copy: buf is reused
		if err := b.Put(ctx, key(i), buf); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 { // writes to one key in different transactions: last wins
			if err := b.Delete(ctx, key(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 10 {
		if err := b.Delete(ctx, ds.NewKey(fmt.Sprint("/old/", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Put(ctx, key(100), []byte("late")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	for i := range n {
		v, err := d.Get(ctx, key(i))
		switch {
		case i == 100:
			if err != nil || string(v) != "late" {
				t.Fatalf("%s = %q, %v; want late", key(i), v, err)
			}
		case i%100 == 0:
			if err != ds.ErrNotFound {
				t.Fatalf("%s deleted in the batch: %v", key(i), err)
			}
		case err != nil || !bytes.Equal(v, value(i)):
			t.Fatalf("%s = %d bytes, %v", key(i), len(v), err)
		}
	}
	if got := len(keys(t, d, query.Query{KeysOnly: true})); got != n-n/100+1 {
		t.Fatalf("query finds %d keys, want %d", got, n-n/100+1)
	}

	// A committed batch is empty and can be reused.
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, ds.NewKey("/again"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Has(ctx, ds.NewKey("/again")); !ok || err != nil {
		t.Fatalf("reused batch: %v, %v", ok, err)
	}
}
