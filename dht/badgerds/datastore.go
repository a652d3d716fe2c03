// Package badgerds adapts an already open Badger v4 database to the
// go-datastore interfaces (ds.Batching and ds.PersistentDatastore).
//
// A Pilot node keeps one Badger database and hands slices of it to several
// consumers: the libp2p Kademlia DHT stores its records (which must survive a
// restart) through a go-datastore, while other stores use the same database
// directly or through further datastores. The published go-ds-badger
// adapters open and own their database, so they cannot share one; this
// package never opens or closes the database. Each Datastore confines itself
// to a key prefix (for example "/dht"): its keys are stored as the prefix
// followed by the go-datastore key, and queries are bounded to that range, so
// datastores with different prefixes on one database never see each other's
// keys.
//
// Durability follows the database's options: when it was opened with
// SyncWrites, every acknowledged Put, Delete and Batch.Commit is on disk.
// The database must not have been opened in managed mode (OpenManaged).
package badgerds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
)

// ErrClosed is returned by every method of a Datastore (and of its batches
// and open query results) after Close.
var ErrClosed = errors.New("badgerds: datastore closed")

// Compile-time checks of the interfaces Datastore implements.
var (
	_ ds.Datastore           = (*Datastore)(nil)
	_ ds.Batching            = (*Datastore)(nil)
	_ ds.PersistentDatastore = (*Datastore)(nil)
)

// Datastore is a go-datastore backed by a shared Badger database. It is safe
// for concurrent use. Create one with New.
type Datastore struct {
	db       *badger.DB
	prefix   string // normalised: "" or a cleaned key such as "/dht"
	maxValue int64  // if db is in-memory, a bound all values must stay under; else 0

	// mu is held shared by every operation that touches db and exclusively
	// by Close, so once Close returns no call of this datastore is inside db.
	mu     sync.RWMutex
	closed atomic.Bool

	qmu     sync.Mutex
	queries map[*queryIter]struct{} // open query results, released by Close
}

// New returns a datastore that stores every key under prefix (a go-datastore
// key such as "/dht"; "" or "/" means no prefix) inside db. The prefix is
// cleaned like a key, so "dht" and "/dht/" are the same as "/dht". Like
// the parent of a go-datastore namespace, a datastore without a prefix sees
// the keys of the prefixed ones (as "/dht/..."); it never sees Badger keys
// that do not start with "/".
//
// The datastore does not own db: Close marks the datastore closed (further
// calls return ErrClosed) but leaves db open. The caller must keep db open
// until Close has returned.
func New(db *badger.DB, prefix string) *Datastore {
	if db == nil {
		panic("badgerds: New called with a nil *badger.DB")
	}
	p := ""
	if prefix != "" {
		if k := ds.NewKey(prefix).String(); k != "/" {
			p = k
		}
	}
	d := &Datastore{db: db, prefix: p, queries: make(map[*queryIter]struct{})}
	if db.Opts().InMemory {
		// An in-memory database holds only values shorter than the
		// ValueThreshold it was opened with. Opts reports MaxInt32 for it
		// instead, but Badger caps it at min(1 MiB, MaxBatchSize).
		d.maxValue = min(1<<20, db.MaxBatchSize())
	}
	return d
}

// checkValue rejects values that an in-memory database can never hold.
// Badger v4.9.6 turns some oversized values into panics: one of exactly
// ValueThreshold bytes (1 MiB by default) passes its check and then crashes
// its write goroutine, which looks for the value log that an in-memory
// database does not have. With a non-default ValueThreshold that size is
// not known here, and such a value still crashes Badger.
func (d *Datastore) checkValue(value []byte) error {
	if d.maxValue > 0 && int64(len(value)) >= d.maxValue {
		return fmt.Errorf("value of %d bytes is too large: an in-memory database holds only values under %d bytes",
			len(value), d.maxValue)
	}
	return nil
}

// set is txn.Set, turning a panic into an error. Badger v4.9.6 panics
// instead of rejecting a value between an in-memory database's
// ValueThreshold and 1 KiB (its exceedsSize slices the value to 1 KiB).
// Set has changed nothing when that happens, so recovering is safe.
func set(txn *badger.Txn, key, value []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("badger panicked: %v", r)
		}
	}()
	return txn.Set(key, value)
}

// dbKey maps a datastore key to its Badger key: the prefix followed by the
// key. Every Badger key of this datastore therefore starts with prefix+"/".
func (d *Datastore) dbKey(k ds.Key) []byte {
	s := k.String()
	if s == "" { // the zero Key; treat it as the root key like ds.RawKey("")
		s = "/"
	}
	b := make([]byte, 0, len(d.prefix)+len(s))
	return append(append(b, d.prefix...), s...)
}

// enter starts an operation: it takes mu shared and fails if the datastore
// is closed. On success the caller must call d.mu.RUnlock.
func (d *Datastore) enter() error {
	d.mu.RLock()
	if d.closed.Load() {
		d.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// Get returns a copy of the value stored under key, or exactly
// ds.ErrNotFound if there is none.
func (d *Datastore) Get(ctx context.Context, key ds.Key) ([]byte, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.mu.RUnlock()
	var val []byte
	err := d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(d.dbKey(key))
		if err != nil {
			return err
		}
		val, err = item.ValueCopy(nil)
		return err
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil, ds.ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("badgerds: get %s: %w", key, err)
	case val == nil: // Badger returns nil for an empty value
		val = []byte{}
	}
	return val, nil
}

// Has reports whether a value is stored under key.
func (d *Datastore) Has(ctx context.Context, key ds.Key) (bool, error) {
	if err := d.enter(); err != nil {
		return false, err
	}
	defer d.mu.RUnlock()
	err := d.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(d.dbKey(key))
		return err
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("badgerds: has %s: %w", key, err)
	}
	return true, nil
}

// GetSize returns the length of the value stored under key, or -1 and
// exactly ds.ErrNotFound if there is none.
func (d *Datastore) GetSize(ctx context.Context, key ds.Key) (int, error) {
	if err := d.enter(); err != nil {
		return -1, err
	}
	defer d.mu.RUnlock()
	size := -1
	err := d.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(d.dbKey(key))
		if err != nil {
			return err
		}
		// Not item.ValueSize: for values kept in the value log it is only
		// an estimate. Value does not copy; it may read the value log.
		return item.Value(func(v []byte) error { size = len(v); return nil })
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return -1, ds.ErrNotFound
	case err != nil:
		return -1, fmt.Errorf("badgerds: get size %s: %w", key, err)
	}
	return size, nil
}

// Put stores a copy of value under key; the caller may reuse value at once.
func (d *Datastore) Put(ctx context.Context, key ds.Key, value []byte) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.mu.RUnlock()
	if err := d.checkValue(value); err != nil {
		return fmt.Errorf("badgerds: put %s: %w", key, err)
	}
	k, v := d.dbKey(key), bytes.Clone(value)
	if err := d.db.Update(func(txn *badger.Txn) error { return set(txn, k, v) }); err != nil {
		return fmt.Errorf("badgerds: put %s: %w", key, err)
	}
	return nil
}

// Delete removes key. Deleting a missing key is not an error.
func (d *Datastore) Delete(ctx context.Context, key ds.Key) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.mu.RUnlock()
	k := d.dbKey(key)
	if err := d.db.Update(func(txn *badger.Txn) error { return txn.Delete(k) }); err != nil {
		return fmt.Errorf("badgerds: delete %s: %w", key, err)
	}
	return nil
}

// Sync flushes the whole database to disk (Badger cannot sync a key range).
// It is a no-op for in-memory databases.
func (d *Datastore) Sync(ctx context.Context, prefix ds.Key) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.mu.RUnlock()
	if d.db.IsClosed() { // Badger's Sync would dereference a nil memtable
		return fmt.Errorf("badgerds: sync %s: %w", prefix, badger.ErrDBClosed)
	}
	if err := d.db.Sync(); err != nil {
		return fmt.Errorf("badgerds: sync %s: %w", prefix, err)
	}
	return nil
}

// DiskUsage reports the on-disk size of the whole database (LSM tree plus
// value log), as last measured by Badger, not just this datastore's prefix.
// It is 0 for in-memory databases and when Badger's metrics are disabled.
func (d *Datastore) DiskUsage(ctx context.Context) (uint64, error) {
	if err := d.enter(); err != nil {
		return 0, err
	}
	defer d.mu.RUnlock()
	lsm, vlog := d.db.Size()
	if n := lsm + vlog; n > 0 {
		return uint64(n), nil
	}
	return 0, nil
}

// Close marks the datastore closed and releases the read transactions of
// query results that are still open; those results then report ErrClosed.
// It waits for calls in progress, but does not close the Badger database.
// Closing twice returns ErrClosed.
func (d *Datastore) Close() error {
	d.mu.Lock()
	if d.closed.Load() {
		d.mu.Unlock()
		return ErrClosed
	}
	d.closed.Store(true)
	d.mu.Unlock()

	d.qmu.Lock()
	open := d.queries
	d.queries = nil
	d.qmu.Unlock()
	for q := range open {
		q.release(ErrClosed)
	}
	return nil
}
