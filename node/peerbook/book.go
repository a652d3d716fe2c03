package peerbook

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Defaults for the zero Options.
const (
	DefaultMax    = 64
	DefaultMaxAge = 30 * 24 * time.Hour
)

// Options tune a Book. The zero value uses the defaults.
type Options struct {
	// Max is the most entries kept; DefaultMax when 0 or less.
	Max int
	// MaxAge hides entries last seen longer ago; DefaultMaxAge when 0 or
	// less.
	MaxAge time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Book is the set of remembered peers, stored in a Badger database. Its
// methods are safe for concurrent use. Use one Book per database: the Book
// serialises its own writes, not another Book's.
type Book struct {
	db      *badger.DB
	opts    Options
	mu      sync.Mutex // held across each read-modify-write of the book
	corrupt atomic.Int64
}

// New returns the book kept in db, which must stay open while the book is
// used. New reads nothing: damaged entries are found and dropped by List
// and Remember.
func New(db *badger.DB, opts Options) *Book {
	if opts.Max <= 0 {
		opts.Max = DefaultMax
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Book{db: db, opts: opts}
}

// Forget removes id's entry, if there is one.
func (b *Book) Forget(id peer.ID) error {
	if err := checkID([]byte(id)); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.db.Update(func(txn *badger.Txn) error {
		return txn.Delete(entryKey(id))
	})
	if err != nil {
		return fmt.Errorf("peerbook: forget %s: %w", id, err)
	}
	return nil
}

// Corrupt reports how many stored entries failed to decode and were
// deleted since the book was created.
func (b *Book) Corrupt() int {
	return int(b.corrupt.Load())
}
