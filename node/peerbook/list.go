package peerbook

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// List returns every valid entry last seen within MaxAge, servers first,
// then the most recently seen first, then by peer ID.
//
// An entry whose stored bytes do not decode is left out and deleted, and
// counted in Corrupt; if deleting fails, the next List tries again. Entries
// past MaxAge are left out but kept (see Remember).
func (b *Book) List() ([]Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s stored
	err := b.db.View(func(txn *badger.Txn) (err error) {
		s, err = scan(txn)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("peerbook: list: %w", err)
	}
	if len(s.bad) > 0 {
		err := b.db.Update(func(txn *badger.Txn) error { return deleteKeys(txn, s.bad) })
		if err == nil {
			b.corrupt.Add(int64(len(s.bad)))
		}
	}
	now := b.opts.Now()
	out := slices.DeleteFunc(s.entries, func(e Entry) bool {
		return now.Sub(e.LastSeen) > b.opts.MaxAge
	})
	slices.SortFunc(out, listFirst)
	return out, nil
}

// listFirst is List's order.
func listFirst(a, b Entry) int {
	if a.Server != b.Server {
		if a.Server {
			return -1
		}
		return 1
	}
	if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Candidates returns the first n entries of List as AddrInfos, the peers
// to re-join the mesh through. It returns nil when n is 0 or less or the
// book cannot be read.
func (b *Book) Candidates(n int) []peer.AddrInfo {
	if n <= 0 {
		return nil
	}
	entries, err := b.List()
	if err != nil || len(entries) == 0 {
		return nil
	}
	entries = entries[:min(n, len(entries))]
	out := make([]peer.AddrInfo, len(entries))
	for i, e := range entries {
		out[i] = peer.AddrInfo{ID: e.ID, Addrs: e.Addrs}
	}
	return out
}
