package badgerds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
	ds "github.com/ipfs/go-datastore"
)

// Batch returns a batch that buffers puts and deletes in memory until
// Commit. A batch that is never committed writes nothing.
func (d *Datastore) Batch(ctx context.Context) (ds.Batch, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.mu.RUnlock()
	return &batch{d: d}, nil
}

// batch implements ds.Batch. It is safe for concurrent use.
type batch struct {
	d   *Datastore
	mu  sync.Mutex
	ops []batchOp
}

// batchOp is one buffered write; dbKey is key as stored in Badger.
type batchOp struct {
	key    ds.Key
	dbKey  []byte
	value  []byte
	delete bool
}

var _ ds.Batch = (*batch)(nil)

// Put buffers a copy of value under key.
func (b *batch) Put(ctx context.Context, key ds.Key, value []byte) error {
	if b.d.closed.Load() {
		return ErrClosed
	}
	if err := b.d.checkValue(value); err != nil {
		return fmt.Errorf("badgerds: batch put %s: %w", key, err)
	}
	op := batchOp{key: key, dbKey: b.d.dbKey(key), value: bytes.Clone(value)}
	b.mu.Lock()
	b.ops = append(b.ops, op)
	b.mu.Unlock()
	return nil
}

// Delete buffers the removal of key.
func (b *batch) Delete(ctx context.Context, key ds.Key) error {
	if b.d.closed.Load() {
		return ErrClosed
	}
	op := batchOp{key: key, dbKey: b.d.dbKey(key), delete: true}
	b.mu.Lock()
	b.ops = append(b.ops, op)
	b.mu.Unlock()
	return nil
}

// Commit writes the buffered operations in order; for a key written more
// than once the last operation wins. They go to Badger in as few
// transactions as its size limits allow, so a large batch is not atomic: if
// Commit fails, a prefix of the operations may have been written, and the
// batch keeps all of them so that Commit can be retried. After a successful
// Commit the batch is empty and may be reused.
func (b *batch) Commit(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.d.enter(); err != nil {
		return err
	}
	defer b.d.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badgerds: commit batch: %w", err)
	}
	if err := b.d.write(b.ops); err != nil {
		return fmt.Errorf("badgerds: commit batch: %w", err)
	}
	b.ops = nil
	return nil
}

// write applies ops in order, committing the current transaction and
// starting another whenever Badger reports that it is full.
func (d *Datastore) write(ops []batchOp) error {
	if len(ops) == 0 {
		return nil
	}
	if d.db.IsClosed() {
		return badger.ErrDBClosed
	}
	txn := d.db.NewTransaction(true)
	defer func() { txn.Discard() }() // discards whichever txn is current
	for _, op := range ops {
		err := op.apply(txn)
		if errors.Is(err, badger.ErrTxnTooBig) {
			if err := txn.Commit(); err != nil {
				return err
			}
			txn = d.db.NewTransaction(true)
			err = op.apply(txn) // may still fail if op alone is too big
		}
		if err != nil {
			return err
		}
	}
	return txn.Commit()
}

func (op batchOp) apply(txn *badger.Txn) error {
	var err error
	if op.delete {
		if err = txn.Delete(op.dbKey); err != nil {
			err = fmt.Errorf("delete %s: %w", op.key, err)
		}
	} else if err = set(txn, op.dbKey, op.value); err != nil {
		err = fmt.Errorf("put %s: %w", op.key, err)
	}
	return err
}
