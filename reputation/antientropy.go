package reputation

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// MaxPrefixLen bounds the ID prefix of Summary and ListIDs: an ID is 32
// bytes.
const MaxPrefixLen = 32

// Summary returns how many stored attestation IDs start with prefix and the
// XOR of those IDs, for anti-entropy: two stores agree on a prefix when both
// numbers match. An empty prefix covers every ID. It reads only the ID
// index.
func (s *Store) Summary(prefix []byte) (count int, fingerprint [32]byte, err error) {
	if len(prefix) > MaxPrefixLen {
		return 0, fingerprint, fmt.Errorf("reputation: summary: prefix of %d bytes exceeds %d", len(prefix), MaxPrefixLen)
	}
	err = s.scanIDs(prefix, func(id [32]byte) bool {
		count++
		for i := range fingerprint {
			fingerprint[i] ^= id[i]
		}
		return true
	})
	if err != nil {
		return 0, [32]byte{}, fmt.Errorf("reputation: summary of %x: %w", prefix, err)
	}
	return count, fingerprint, nil
}

// ListIDs returns up to limit stored attestation IDs starting with prefix,
// in ascending order; limit ≤ 0 means no limit. It reads only the ID index.
func (s *Store) ListIDs(prefix []byte, limit int) ([][32]byte, error) {
	if len(prefix) > MaxPrefixLen {
		return nil, fmt.Errorf("reputation: list IDs: prefix of %d bytes exceeds %d", len(prefix), MaxPrefixLen)
	}
	var ids [][32]byte
	err := s.scanIDs(prefix, func(id [32]byte) bool {
		ids = append(ids, id)
		return limit <= 0 || len(ids) < limit
	})
	if err != nil {
		return nil, fmt.Errorf("reputation: list IDs with prefix %x: %w", prefix, err)
	}
	return ids, nil
}

// scanIDs calls fn with every ID in the ID index that starts with prefix,
// in ascending order, with key-only iteration; fn returns false to stop.
// Malformed index keys are skipped.
func (s *Store) scanIDs(prefix []byte, fn func([32]byte) bool) error {
	full := key([]byte(prefixID), prefix)
	return s.db.View(func(txn *badger.Txn) error {
		return iterKeys(txn, full, func(k []byte) (bool, error) {
			if len(k) != len(prefixID)+32 {
				return true, nil
			}
			id, _ := idFromKey(k)
			return fn(id), nil
		})
	})
}
