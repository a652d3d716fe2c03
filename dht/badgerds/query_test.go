package badgerds_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"

	"github.com/pilot-agents/pilot/dht/badgerds"
)

// TestQueryMatchesMapDatastore runs many queries against this datastore and
// against go-datastore's MapDatastore holding the same data, and requires
// identical results. Without orders, this datastore returns keys in
// ascending order, so the reference is asked for that order explicitly.
func TestQueryMatchesMapDatastore(t *testing.T) {
	ctx := t.Context()
	db := memDB(t)
	putNeighbours(t, db, "/n")
	d, ref := badgerds.New(db, "/n"), ds.NewMapDatastore()
	for i, k := range []string{"/foo", "/foo/bar", "/foo/bar/baz", "/foo/a", "/foobar", "/foo0",
		"/fo", "/z", "/foo/\xff", "/foo/bar0", "/foo/b/c/d", "/0", "/foo/x\x00y"} {
		v := bytes.Repeat([]byte{byte('a' + i%5)}, i%4) // includes empty values
		for _, s := range []ds.Datastore{d, ref} {
			if err := s.Put(ctx, ds.NewKey(k), v); err != nil {
				t.Fatal(err)
			}
		}
	}
	prefixes := []string{"", "/", "foo", "/foo", "/foo/", "/foo/../foo", "/./foo//", "/foo/bar", "/fo", "/nope", "/.."}
	orders := [][]query.Order{nil, {query.OrderByKey{}}, {&query.OrderByKey{}, query.OrderByValue{}},
		{query.OrderByKeyDescending{}}, {query.OrderByValue{}, query.OrderByKey{}}}
	filters := [][]query.Filter{nil,
		{query.FilterKeyCompare{Op: query.GreaterThan, Key: "/foo/a"}},
		{query.FilterValueCompare{Op: query.LessThan, Value: []byte("bb")}, query.FilterKeyPrefix{Prefix: "/foo/b"}}}
	n := 0
	for _, prefix := range prefixes {
		for flags := range 4 {
			for _, o := range orders {
				for _, f := range filters {
					for _, offset := range []int{0, 1, 3} {
						for _, limit := range []int{0, 1, 2, 100} {
							q := query.Query{Prefix: prefix, Orders: o, Filters: f, Offset: offset, Limit: limit,
								KeysOnly: flags&1 != 0, ReturnsSizes: flags&2 != 0}
							compareQuery(t, d, ref, q)
							n++
						}
					}
				}
			}
		}
	}
	t.Logf("%d queries compared", n)
}

func compareQuery(t *testing.T, d, ref ds.Datastore, q query.Query) {
	t.Helper()
	ctx := t.Context()
	res, err := d.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !reflect.DeepEqual(res.Query(), q) {
		t.Errorf("%s: results report query %s", q, res.Query())
	}
	got, err := res.Rest()
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rq := q
	if len(rq.Orders) == 0 {
		rq.Orders = []query.Order{query.OrderByKey{}}
	}
	res, err = ref.Query(ctx, rq)
	if err != nil {
		t.Fatal(err)
	}
	want, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d results, want %d (%v vs %v)", q, len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Key != w.Key || !bytes.Equal(g.Value, w.Value) || (g.Value == nil) != q.KeysOnly {
			t.Fatalf("%s: result %d is %q=%q, want %q=%q", q, i, g.Key, g.Value, w.Key, w.Value)
		}
		if (!q.KeysOnly || q.ReturnsSizes) && g.Size != w.Size {
			t.Fatalf("%s: result %d (%s) has size %d, want %d", q, i, g.Key, g.Size, w.Size)
		}
	}
}

func TestQueryContextCancel(t *testing.T) {
	d := badgerds.New(memDB(t), "/q")
	for _, k := range []string{"/a", "/b", "/c"} {
		mustPut(t, d, k, "v")
	}
	ctx, cancel := context.WithCancel(t.Context())
	res, err := d.Query(ctx, query.Query{})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if r, ok := res.NextSync(); !ok || r.Error != nil || r.Key != "/a" {
		t.Fatalf("first result %+v, %v", r, ok)
	}
	cancel()
	if r, ok := res.NextSync(); !ok || !errors.Is(r.Error, context.Canceled) || r.Key != "" {
		t.Fatalf("after cancel: %+v, %v; want a context.Canceled error", r, ok)
	}
	if r, ok := res.NextSync(); ok {
		t.Fatalf("results continue after their error: %+v", r)
	}
	if _, err := d.Query(ctx, query.Query{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Query with a cancelled context: %v", err)
	}
}

// TestQueryEarlyClose closes results half-way, through both the iterator
// and the channel interfaces, and then reuses the database.
func TestQueryEarlyClose(t *testing.T) {
	ctx := t.Context()
	d := badgerds.New(memDB(t), "/q")
	for _, k := range []string{"/a", "/b", "/c"} {
		mustPut(t, d, k, "v")
	}
	res, err := d.Query(ctx, query.Query{KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if r := <-res.Next(); r.Key != "/a" {
		t.Fatalf("first result %+v", r)
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	for r := range res.Next() { // the channel is closed, perhaps after a buffered entry
		if r.Error != nil {
			t.Fatal(r.Error)
		}
	}
	res, err = d.Query(ctx, query.Query{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	es, err := res.Rest()
	if err != nil || len(es) != 1 {
		t.Fatalf("limit 1: %v, %v", es, err)
	}
	mustPut(t, d, "/d", "w") // writes proceed while no query is open
}

func TestQueryExpirations(t *testing.T) {
	db := memDB(t)
	d := badgerds.New(db, "/t")
	ttl := badger.NewEntry([]byte("/t/ttl"), []byte("v")).WithTTL(time.Hour)
	if err := db.Update(func(txn *badger.Txn) error { return txn.SetEntry(ttl) }); err != nil {
		t.Fatal(err)
	}
	mustPut(t, d, "/forever", "v")
	res, err := d.Query(t.Context(), query.Query{ReturnExpirations: true})
	if err != nil {
		t.Fatal(err)
	}
	es, err := res.Rest()
	if err != nil || len(es) != 2 {
		t.Fatalf("%v, %v", es, err)
	}
	if !es[0].Expiration.IsZero() || es[1].Key != "/ttl" ||
		time.Until(es[1].Expiration) <= 0 || time.Until(es[1].Expiration) > time.Hour+time.Second {
		t.Errorf("expirations: %s %v, %s %v", es[0].Key, es[0].Expiration, es[1].Key, es[1].Expiration)
	}
	if got := keys(t, d, query.Query{}); !slices.Equal(got, []string{"/forever", "/ttl"}) {
		t.Errorf("keys without ReturnExpirations: %v", got)
	}
}
