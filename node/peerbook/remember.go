package peerbook

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
)

// Remember stores e, replacing any entry for the same peer. An invalid
// entry is refused with an error wrapping ErrInvalid and nothing is
// written.
//
// Eviction: when the book then holds more than Options.Max entries, the
// surplus goes in one rule: oldest LastSeen first; at equal LastSeen a
// non-server before a server; then by peer ID, highest first. So e itself
// is dropped at once when it is older than all Max others. Entries past
// MaxAge are not deleted for their age alone (a wrong clock must not wipe
// the book); being the oldest, they are the first evicted. Entries that do
// not decode are deleted and counted in Corrupt.
func (b *Book) Remember(e Entry) error {
	v, err := encodeEntry(e)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var dropped int
	err = b.db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(entryKey(e.ID), v); err != nil {
			return err
		}
		// The iterator is created after the Set, so it sees e.
		s, err := scan(txn)
		if err != nil {
			return err
		}
		dropped = len(s.bad)
		return deleteKeys(txn, append(s.bad, b.surplus(s.entries)...))
	})
	if err != nil {
		return fmt.Errorf("peerbook: remember %s: %w", e.ID, err)
	}
	b.corrupt.Add(int64(dropped))
	return nil
}

// surplus returns the keys of the entries to evict so that at most Max
// remain, in the order documented on Remember. It reorders entries.
func (b *Book) surplus(entries []Entry) [][]byte {
	n := len(entries) - b.opts.Max
	if n <= 0 {
		return nil
	}
	slices.SortFunc(entries, evictFirst)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = entryKey(entries[i].ID)
	}
	return keys
}

// evictFirst orders entries by how soon they are evicted.
func evictFirst(a, b Entry) int {
	if c := a.LastSeen.Compare(b.LastSeen); c != 0 {
		return c
	}
	if a.Server != b.Server {
		if a.Server {
			return 1
		}
		return -1
	}
	return cmp.Compare(b.ID, a.ID)
}
