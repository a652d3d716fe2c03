// Package kvbatch writes to Badger in as many transactions as its batch
// limits need, and sizes value chunks to fit a database's limits. The
// inbox and the task service store large bodies in chunks with it.
package kvbatch

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// Batch writes and deletes across as many transactions as Badger's batch
// limits need. Only the caller's order matters: put the commit point last
// when writing and first when deleting. It is not safe for concurrent use.
type Batch struct {
	db  *badger.DB
	txn *badger.Txn
}

// New starts a batch on db.
func New(db *badger.DB) *Batch { return &Batch{db: db, txn: db.NewTransaction(true)} }

func (b *Batch) do(op func(*badger.Txn) error) error {
	err := op(b.txn)
	if errors.Is(err, badger.ErrTxnTooBig) {
		if err := b.txn.Commit(); err != nil {
			return err
		}
		b.txn = b.db.NewTransaction(true)
		err = op(b.txn)
	}
	return err
}

// Set writes k = v.
func (b *Batch) Set(k, v []byte) error {
	return b.do(func(t *badger.Txn) error { return t.Set(k, v) })
}

// Delete removes k.
func (b *Batch) Delete(k []byte) error {
	return b.do(func(t *badger.Txn) error { return t.Delete(k) })
}

// Commit commits what is left.
func (b *Batch) Commit() error { return b.txn.Commit() }

// Discard drops what is not committed yet.
func (b *Batch) Discard() { b.txn.Discard() }

// ChunkSize picks a chunk size for values stored in db: at most max, at
// most a quarter of a batch, under the value threshold in memory (where
// values must stay below it), and never below min.
func ChunkSize(db *badger.DB, max, min int) int {
	c := int64(max)
	c = minOf(c, db.MaxBatchSize()/4)
	if o := db.Opts(); o.InMemory {
		c = minOf(c, o.ValueThreshold/2)
	}
	return int(maxOf(c, int64(min)))
}

func minOf(a, b int64) int64 {
	if a < b {
		return a
	}
	return b
}

func maxOf(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
