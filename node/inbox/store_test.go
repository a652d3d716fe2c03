package inbox

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

// TestNewSweepsLeftovers: what a crash leaves behind (a temporary file, a
// renamed file whose record was never committed, body chunks without a
// record) is removed when the inbox opens; files that are not the inbox's
// and the data of an unreadable record are kept.
func TestNewSweepsLeftovers(t *testing.T) {
	dir := t.TempDir()
	db := openDiskDB(t, filepath.Join(dir, "store"))
	defer db.Close()
	files := filepath.Join(dir, "received")
	require.NoError(t, os.MkdirAll(files, 0o700))
	write := func(name string) string {
		p := filepath.Join(files, name)
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
		return p
	}
	const orphanID, corruptID = "00000000000000010000abcd", "0000000000000002ffff0000"
	tmp := write(tmpPrefix + "123.part")
	orphan := write(orphanID + "-a.txt")
	mine := write("notes.txt")
	corruptFile := write(corruptID + "-b.txt")
	require.NoError(t, db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(bodyKey(orphanID, 0), []byte("body")); err != nil {
			return err
		}
		if err := txn.Set(bodyKey(corruptID, 0), []byte("body")); err != nil {
			return err
		}
		return txn.Set(metaKey(corruptID), []byte("{not json"))
	}))

	in, err := New(Config{DB: db, FilesDir: files})
	require.NoError(t, err)
	defer in.Close()
	for _, gone := range []string{tmp, orphan} {
		require.NoFileExists(t, gone)
	}
	require.FileExists(t, mine)
	require.FileExists(t, corruptFile)
	keys, err := in.chunkKeys(orphanID)
	require.NoError(t, err)
	require.Empty(t, keys)
	keys, err = in.chunkKeys(corruptID)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	list, err := in.List(context.Background())
	require.NoError(t, err)
	require.Empty(t, list, "the unreadable record is skipped")
	require.NoError(t, in.Delete(context.Background(), corruptID), "but can be deleted")
	keys, err = in.chunkKeys(corruptID)
	require.NoError(t, err)
	require.Empty(t, keys)

	// IDs issued after reopening sort after the ones stored, even with a
	// clock that went back.
	id, _ := in.newID(time.Unix(0, 1))
	require.Greater(t, id, corruptID)
}

func TestIDsAreOrderedAndUnique(t *testing.T) {
	in := &Inbox{}
	now := time.Now()
	seen := map[string]bool{}
	prev := ""
	for range 1000 {
		id, at := in.newID(now) // the same instant every time
		require.True(t, validID(id), id)
		require.Greater(t, id, prev)
		require.False(t, seen[id])
		require.False(t, at.Before(now))
		seen[id], prev = true, id
	}
}

func TestChunkSizeFitsSmallInMemoryStores(t *testing.T) {
	// The node's in-memory store: 1 MiB memtable, value threshold at 15%.
	const memTable = 1 << 20
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil).
		WithMemTableSize(memTable).WithValueThreshold(memTable * 15 / 100))
	require.NoError(t, err)
	defer db.Close()
	in, err := New(Config{DB: db})
	require.NoError(t, err)
	defer in.Close()
	require.Less(t, int64(in.chunk), db.Opts().ValueThreshold)
	body := randBytes(t, 1<<20) // a full-size message
	rec := record{ID: "0000000000000001000000aa", From: "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq", Kind: KindBinary, Size: int64(len(body))}
	require.NoError(t, in.put(rec, body))
	m, err := in.Get(context.Background(), rec.ID)
	require.NoError(t, err)
	require.Equal(t, body, m.Body)
}
