package reputation

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Every read re-decodes and re-verifies what it found on disk: an entry
// that fails (bad encoding, bad signature, bytes that do not hash to their
// key) is skipped, counted under ReasonCorrupt and never returned. Time
// rules are not re-applied: an expired attestation is returned until Prune
// removes it.

// Get returns the encoding of the attestation named id, and whether it is
// stored (a corrupt entry reads as not stored).
func (s *Store) Get(id [32]byte) ([]byte, bool, error) {
	var raw []byte
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		raw, _, err = s.load(txn, id)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("reputation: get %x: %w", id[:8], err)
	}
	return raw, raw != nil, nil
}

// Has reports whether the attestation named id is stored. It reads only the
// ID index (the same one Summary and ListIDs read) and does not re-verify
// the entry.
func (s *Store) Has(id [32]byte) (bool, error) {
	var ok bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		ok, err = exists(txn, idKey(id))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reputation: has %x: %w", id[:8], err)
	}
	return ok, nil
}

// BySubject returns the stored attestations about p, oldest IssuedAt first.
func (s *Store) BySubject(p peer.ID) ([]Attestation, error) {
	out, err := s.byIndex(subjectPrefix(p))
	if err != nil {
		return nil, fmt.Errorf("reputation: attestations about %s: %w", p, err)
	}
	return out, nil
}

// ByIssuer returns the stored attestations issued by p, oldest IssuedAt
// first.
func (s *Store) ByIssuer(p peer.ID) ([]Attestation, error) {
	out, err := s.byIndex(issuerPrefix(p))
	if err != nil {
		return nil, fmt.Errorf("reputation: attestations by %s: %w", p, err)
	}
	return out, nil
}

// Each calls fn for every stored attestation in ascending ID order, and
// stops at the first error fn returns, which Each returns wrapped. fn runs
// inside a read transaction on the caller's goroutine; it may call other
// Store methods, and sees a snapshot taken when Each started.
func (s *Store) Each(fn func(Attestation) error) error {
	err := s.db.View(func(txn *badger.Txn) error {
		var fnErr error
		err := iterKeys(txn, []byte(prefixID), func(k []byte) (bool, error) {
			id, _ := idFromKey(k)
			_, a, err := s.load(txn, id)
			if err != nil || a == nil {
				return err == nil, err
			}
			fnErr = fn(*a)
			return fnErr == nil, nil
		})
		if err != nil {
			return err
		}
		if fnErr != nil {
			return fmt.Errorf("callback: %w", fnErr)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reputation: each: %w", err)
	}
	return nil
}

// Count returns the number of stored attestations (entries of the ID index,
// corrupt ones included).
func (s *Store) Count() int { return int(s.count.Load()) }

// LastSeq returns the highest Seq stored for attestations by issuer about
// subject, or 0 if there is none; the issuer's next attestation about
// subject needs LastSeq+1 or more. It survives Prune.
func (s *Store) LastSeq(issuer, subject peer.ID) (uint64, error) {
	var seq uint64
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		seq, err = getUint64(txn, seqKey(issuer, subject))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reputation: last seq of %s about %s: %w", issuer, subject, err)
	}
	return seq, nil
}

// byIndex loads every attestation whose index key starts with prefix.
func (s *Store) byIndex(prefix []byte) ([]Attestation, error) {
	var out []Attestation
	err := s.db.View(func(txn *badger.Txn) error {
		return iterKeys(txn, prefix, func(k []byte) (bool, error) {
			id, ok := idFromKey(k)
			if !ok || len(k) != len(prefix)+8+1+32 {
				s.countReason(ReasonCorrupt)
				return true, nil
			}
			_, a, err := s.load(txn, id)
			if a != nil {
				out = append(out, *a)
			}
			return err == nil, err
		})
	})
	return out, err
}

// load reads, decodes and verifies the attestation named id. It returns
// nils for a missing entry, and nils after counting a corrupt one; err is
// only for storage failures.
func (s *Store) load(txn *badger.Txn, id [32]byte) ([]byte, *Attestation, error) {
	raw, err := getValue(txn, rawKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := checkStatic(raw)
	if err != nil || IDOf(raw) != id {
		s.countReason(ReasonCorrupt)
		return nil, nil, nil
	}
	return raw, &a, nil
}

// iterKeys calls fn with every key starting with prefix, in order, without
// reading values; the key is valid only during the call. fn returns false
// to stop.
func iterKeys(txn *badger.Txn, prefix []byte, fn func(k []byte) (bool, error)) error {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
		more, err := fn(it.Item().Key())
		if err != nil || !more {
			return err
		}
	}
	return nil
}
