package reputation

import (
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// pruneBatch is how many attestations one Prune transaction deletes.
const pruneBatch = 256

// Prune deletes the attestations that Add would now reject as expired
// (past Expiry, or IssuedAt older than MaxAge) and rate windows too old to
// matter, and returns how many attestations it deleted. The last sequence
// number and the task hashes of each pair are kept, so a pruned attestation
// cannot be replayed. Safe to run concurrently with Add and reads.
func (s *Store) Prune() (int, error) {
	now := s.rules.Now()
	var doomed [][32]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixID), PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			id, ok := idFromKey(item.Key())
			if !ok {
				continue
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			m, err := unmarshalIndexMeta(v)
			if err != nil || s.expired(m, now) {
				doomed = append(doomed, id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reputation: prune: scan: %w", err)
	}
	deleted := 0
	for len(doomed) > 0 {
		batch := doomed[:min(pruneBatch, len(doomed))]
		doomed = doomed[len(batch):]
		n, err := s.pruneIDs(batch, now)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("reputation: prune: %w", err)
		}
	}
	if err := s.pruneRate(now); err != nil {
		return deleted, fmt.Errorf("reputation: prune rate windows: %w", err)
	}
	return deleted, nil
}

// expired reports whether Add would reject an attestation with meta m as
// expired at now.
func (s *Store) expired(m indexMeta, now time.Time) bool {
	return now.After(m.expiry) || m.issuedAt.Before(now.Add(-s.rules.MaxAge))
}

// pruneIDs deletes the keys of the attestations named ids in one
// transaction, retrying on conflicts, and returns how many it deleted.
func (s *Store) pruneIDs(ids [][32]byte, now time.Time) (int, error) {
	var n int
	var err error
	for attempt := 1; attempt <= maxAddAttempts; attempt++ {
		n = 0
		err = s.db.Update(func(txn *badger.Txn) error {
			for _, id := range ids {
				ok, err := s.pruneOne(txn, id, now)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if err != nil {
		return 0, err
	}
	s.count.Add(-int64(n))
	return n, nil
}

// pruneOne deletes one attestation's keys if it is still stored and
// expired (or its index entry is unreadable).
func (s *Store) pruneOne(txn *badger.Txn, id [32]byte, now time.Time) (bool, error) {
	v, err := getValue(txn, idKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	dels := [][]byte{rawKey(id), idKey(id)}
	if m, err := unmarshalIndexMeta(v); err == nil {
		if !s.expired(m, now) {
			return false, nil
		}
		tail := timeIDSuffix(m.issuedAt, id)
		dels = append(dels, key(subjectPrefix(m.subject), tail), key(issuerPrefix(m.issuer), tail))
	} else {
		s.countReason(ReasonCorrupt)
	}
	for _, k := range dels {
		if err := txn.Delete(k); err != nil {
			return false, err
		}
	}
	return true, nil
}

// pruneRate deletes rate windows that end before the oldest IssuedAt Add
// still accepts.
func (s *Store) pruneRate(now time.Time) error {
	oldest := windowOf(now.Add(-s.rules.MaxAge), s.rules.IssuerWindow)
	var old [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		return iterKeys(txn, []byte(prefixRate), func(k []byte) (bool, error) {
			if len(k) < len(prefixRate)+8 || int64(beUint64(k[len(k)-8:])) < oldest {
				old = append(old, append([]byte(nil), k...))
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	for len(old) > 0 {
		batch := old[:min(4*pruneBatch, len(old))]
		old = old[len(batch):]
		err := s.db.Update(func(txn *badger.Txn) error {
			for _, k := range batch {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
