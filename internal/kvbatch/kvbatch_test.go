package kvbatch

import (
	"fmt"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

// TestBatchSplitsOverLimits writes far more than one transaction holds on
// a small in-memory database: every key arrives, and deletes too.
func TestBatchSplitsOverLimits(t *testing.T) {
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithMemTableSize(1 << 20).WithValueThreshold(150 << 10).WithLogger(nil))
	require.NoError(t, err)
	defer db.Close()
	size := ChunkSize(db, 128<<10, 4<<10)
	require.LessOrEqual(t, int64(size), db.MaxBatchSize()/4)
	require.Less(t, int64(size), db.Opts().ValueThreshold, "in memory a chunk stays under the value threshold")
	value := make([]byte, size)
	const n = 200 // far past one transaction's limit
	b := New(db)
	for i := range n {
		require.NoError(t, b.Set(fmt.Appendf(nil, "k%03d", i), value))
	}
	require.NoError(t, b.Commit())
	count := func() int {
		c := 0
		require.NoError(t, db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("k")})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				c++
			}
			return nil
		}))
		return c
	}
	require.Equal(t, n, count())
	b = New(db)
	for i := range n {
		require.NoError(t, b.Delete(fmt.Appendf(nil, "k%03d", i)))
	}
	require.NoError(t, b.Commit())
	require.Zero(t, count())
	b = New(db)
	require.NoError(t, b.Set([]byte("k-discarded"), value))
	b.Discard()
	require.Zero(t, count())
}
