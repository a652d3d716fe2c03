package badgerds_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/pilot-agents/pilot/dht/badgerds"
)

func TestClosed(t *testing.T) {
	ctx := t.Context()
	db := memDB(t)
	d := badgerds.New(db, "/x")
	mustPut(t, d, "/k", "v")
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, ds.NewKey("/pending"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	open, err := d.Query(ctx, query.Query{}) // left open across Close
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	k := ds.NewKey("/k")
	_, getErr := d.Get(ctx, k)
	_, hasErr := d.Has(ctx, k)
	_, sizeErr := d.GetSize(ctx, k)
	_, queryErr := d.Query(ctx, query.Query{})
	_, batchErr := d.Batch(ctx)
	_, duErr := d.DiskUsage(ctx)
	checks := map[string]error{
		"Close":        d.Close(),
		"Get":          getErr,
		"Has":          hasErr,
		"GetSize":      sizeErr,
		"Put":          d.Put(ctx, k, []byte("w")),
		"Delete":       d.Delete(ctx, k),
		"Query":        queryErr,
		"Sync":         d.Sync(ctx, k),
		"Batch":        batchErr,
		"DiskUsage":    duErr,
		"batch Put":    b.Put(ctx, k, nil),
		"batch Delete": b.Delete(ctx, k),
		"batch Commit": b.Commit(ctx),
	}
	if r, ok := open.NextSync(); !ok || !errors.Is(r.Error, badgerds.ErrClosed) {
		t.Errorf("open results after Close: %+v, %v; want ErrClosed", r, ok)
	}
	if r, ok := open.NextSync(); ok {
		t.Errorf("open results after their error: %+v", r)
	}
	open.Close()
	for name, err := range checks {
		if !errors.Is(err, badgerds.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	// The database is still open and untouched; a new datastore can use it.
	d2 := badgerds.New(db, "/x")
	if v, err := d2.Get(ctx, k); err != nil || string(v) != "v" {
		t.Errorf("new datastore on the same db: Get = %q, %v", v, err)
	}
	if ok, err := d2.Has(ctx, ds.NewKey("/pending")); ok || err != nil {
		t.Errorf("uncommitted batch of the closed datastore was written: %v, %v", ok, err)
	}
}

// TestDatabaseClosedFirst checks that a datastore whose database its owner
// closed too early reports errors rather than panicking.
func TestDatabaseClosedFirst(t *testing.T) {
	ctx := t.Context()
	db, err := badger.Open(badger.DefaultOptions(t.TempDir()).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	d := badgerds.New(db, "/x")
	mustPut(t, d, "/k", "v")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	k := ds.NewKey("/k")
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, k, nil); err != nil {
		t.Fatal(err)
	}
	_, getErr := d.Get(ctx, k)
	_, hasErr := d.Has(ctx, k)
	_, sizeErr := d.GetSize(ctx, k)
	_, queryErr := d.Query(ctx, query.Query{})
	for name, err := range map[string]error{
		"Get": getErr, "Has": hasErr, "GetSize": sizeErr, "Query": queryErr,
		"Put": d.Put(ctx, k, nil), "Delete": d.Delete(ctx, k), "Sync": d.Sync(ctx, k), "Commit": b.Commit(ctx),
	} {
		if !errors.Is(err, badger.ErrDBClosed) {
			t.Errorf("%s with the database closed: %v, want badger.ErrDBClosed", name, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentUse runs every kind of call at once and closes the
// datastore while they are under way; run it with -race. Every call must
// either succeed or fail with ErrClosed.
func TestConcurrentUse(t *testing.T) {
	ctx := t.Context()
	d := badgerds.New(memDB(t), "/c")
	var running, done sync.WaitGroup
	for w := range 8 {
		running.Add(1)
		done.Go(func() {
			for i := range 400 {
				if i == 50 {
					running.Done() // Close waits until every worker is this far
				}
				if err := work(ctx, d, fmt.Sprintf("/w%d", w), i); err != nil && !errors.Is(err, badgerds.ErrClosed) {
					t.Error(err)
					return
				}
			}
		})
	}
	running.Wait()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	done.Wait()
}

// work is step i of a worker that owns the keys under dir.
func work(ctx context.Context, d *badgerds.Datastore, dir string, i int) error {
	k := ds.NewKey(fmt.Sprintf("%s/%d", dir, i%20))
	if err := d.Put(ctx, k, []byte{byte(i)}); err != nil {
		return err
	}
	if v, err := d.Get(ctx, k); err != nil {
		return err
	} else if len(v) != 1 || v[0] != byte(i) {
		return fmt.Errorf("Get %s = %v, want [%d]", k, v, byte(i))
	}
	if i%10 != 0 {
		return nil
	}
	res, err := d.Query(ctx, query.Query{Prefix: dir})
	if err != nil {
		return err
	}
	if _, err := res.Rest(); err != nil {
		return err
	}
	b, err := d.Batch(ctx)
	if err != nil {
		return err
	}
	if err := b.Delete(ctx, k); err != nil {
		return err
	}
	return b.Commit(ctx)
}
