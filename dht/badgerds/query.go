package badgerds

import (
	"context"
	"fmt"
	"path"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-datastore/query"
)

// Query runs q over this datastore's keys. Results stream from a Badger
// iterator inside one read transaction (a consistent snapshot), which is
// discarded when the results are exhausted or closed, when ctx is done (the
// results then end with ctx's error), or when the datastore is closed (they
// end with ErrClosed). Callers must Close results they do not drain.
//
// The prefix, filters, key-ascending order (the iterator's natural order),
// offset and limit are applied while iterating; KeysOnly entries carry no
// value and, unless ReturnsSizes is set, Size -1. Any other order needs
// every result before the first, so those queries are collected and sorted
// with query.NaiveOrder, then paged with query.NaiveOffset and NaiveLimit.
func (d *Datastore) Query(ctx context.Context, q query.Query) (query.Results, error) {
	native := keyAscending(q.Orders)
	it, err := d.openQuery(ctx, q, native)
	if err != nil {
		return nil, err
	}
	res := query.ResultsFromIterator(q, query.Iterator{Next: it.next, Close: it.close})
	if !native {
		// Sorting drains it (and so releases its transaction) right here.
		res = query.NaiveOrder(res, q.Orders...)
		if q.Offset != 0 {
			res = query.NaiveOffset(res, q.Offset)
		}
		if q.Limit != 0 {
			res = query.NaiveLimit(res, q.Limit)
		}
	}
	return res, nil
}

// keyAscending reports whether orders are satisfied by plain byte-wise key
// order. Keys are unique, so orders after a leading OrderByKey never matter.
func keyAscending(orders []query.Order) bool {
	if len(orders) == 0 {
		return true
	}
	switch orders[0].(type) {
	case query.OrderByKey, *query.OrderByKey:
		return true
	}
	return false
}

// queryRange returns the part of the key space, relative to the datastore's
// own prefix, that a query prefix selects. It mirrors query.NaiveQueryApply:
// the prefix is cleaned as a path and selects strict children only, so
// "/foo" selects "/foo/bar" but neither "/foo" nor "/foobar"; a prefix that
// cleans to "/" selects everything.
func queryRange(prefix string) string {
	if prefix == "" {
		return "/"
	}
	if prefix[0] != '/' {
		prefix = "/" + prefix
	}
	if prefix = path.Clean(prefix); prefix == "/" {
		return "/"
	}
	return prefix + "/"
}

// queryIter is the streaming state of one query.
type queryIter struct {
	d    *Datastore
	ctx  context.Context
	q    query.Query
	trim int // length of the datastore prefix to strip from Badger keys

	mu   sync.Mutex
	txn  *badger.Txn
	it   *badger.Iterator
	stop func() bool // unregisters the context.AfterFunc
	done bool        // txn and it are released
	err  error       // error still to be reported after release
	skip int         // offset left to skip (native paging only)
	left int         // results left to return; -1 means no limit
}

// openQuery starts the read transaction and iterator for q and registers
// them so that Close can release them.
func (d *Datastore) openQuery(ctx context.Context, q query.Query, native bool) (*queryIter, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("badgerds: query %q: %w", q.Prefix, err)
	}
	if d.db.IsClosed() {
		return nil, fmt.Errorf("badgerds: query %q: %w", q.Prefix, badger.ErrDBClosed)
	}
	s := &queryIter{d: d, ctx: ctx, q: q, trim: len(d.prefix), left: -1}
	if native {
		s.skip = max(q.Offset, 0)
		if q.Limit > 0 {
			s.left = q.Limit
		}
	}
	rng := []byte(d.prefix + queryRange(q.Prefix))
	opts := badger.DefaultIteratorOptions
	opts.Prefix = rng
	opts.PrefetchValues = !q.KeysOnly
	s.txn = d.db.NewTransaction(false)
	s.it = s.txn.NewIterator(opts)
	s.it.Seek(rng)

	s.mu.Lock()
	s.stop = context.AfterFunc(ctx, func() { s.release(s.ctxErr()) })
	s.mu.Unlock()
	d.qmu.Lock()
	d.queries[s] = struct{}{}
	d.qmu.Unlock()
	return s, nil
}

// next returns the next result. After the iteration ends for a reason
// other than exhaustion or Close, it returns that error once.
func (s *queryIter) next() (query.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.done {
		switch {
		case s.left == 0 || !s.it.Valid():
			s.releaseLocked(nil)
		case s.ctx.Err() != nil:
			s.releaseLocked(s.ctxErr())
		case s.d.closed.Load():
			s.releaseLocked(ErrClosed)
		default:
			e, ok, err := s.step()
			if err != nil {
				s.releaseLocked(err)
			} else if ok {
				return query.Result{Entry: e}, true
			}
		}
	}
	if err := s.err; err != nil {
		s.err = nil
		return query.Result{Error: err}, true
	}
	return query.Result{}, false
}

// step reads the iterator's current item, advances the iterator, and
// reports whether the item is a result to return.
func (s *queryIter) step() (query.Entry, bool, error) {
	item := s.it.Item()
	defer s.it.Next()
	e := query.Entry{Key: string(item.Key()[s.trim:]), Size: -1}
	// Skipping the offset with no filter to consult needs only the key.
	if s.skip == 0 || len(s.q.Filters) > 0 {
		if err := s.fill(&e, item); err != nil {
			return query.Entry{}, false, fmt.Errorf("badgerds: query %q: read %s: %w", s.q.Prefix, e.Key, err)
		}
		for _, f := range s.q.Filters {
			if !f.Filter(e) {
				return query.Entry{}, false, nil
			}
		}
	}
	if s.skip > 0 {
		s.skip--
		return query.Entry{}, false, nil
	}
	if s.left > 0 {
		s.left--
	}
	return e, true, nil
}

// fill sets the value, size and expiration of e as the query asks.
func (s *queryIter) fill(e *query.Entry, item *badger.Item) error {
	switch {
	case !s.q.KeysOnly:
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if v == nil {
			v = []byte{}
		}
		e.Value, e.Size = v, len(v)
	case s.q.ReturnsSizes:
		// item.ValueSize is only an estimate for values in the value log.
		if err := item.Value(func(v []byte) error { e.Size = len(v); return nil }); err != nil {
			return err
		}
	}
	if s.q.ReturnExpirations {
		if exp := item.ExpiresAt(); exp > 0 {
			e.Expiration = time.Unix(int64(exp), 0)
		}
	}
	return nil
}

// close is the results' Close: it releases the iterator and transaction.
func (s *queryIter) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(nil)
	s.err = nil
	return nil
}

func (s *queryIter) ctxErr() error {
	return fmt.Errorf("badgerds: query %q: %w", s.q.Prefix, s.ctx.Err())
}

// release ends the iteration early with err (context done or datastore
// closed); next reports err once.
func (s *queryIter) release(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(err)
}

func (s *queryIter) releaseLocked(err error) {
	if s.done {
		return
	}
	s.done = true
	s.err = err
	s.it.Close() // Badger panics if a transaction is discarded before its iterators
	s.txn.Discard()
	s.it, s.txn = nil, nil
	if s.stop != nil {
		s.stop()
	}
	s.d.qmu.Lock()
	delete(s.d.queries, s)
	s.d.qmu.Unlock()
}
