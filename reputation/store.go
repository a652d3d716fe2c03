package reputation

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Add retries a transaction that lost a write conflict this many times in
// all, backing off a little more each time.
const (
	maxAddAttempts = 8
	conflictBase   = 200 * time.Microsecond
)

// issuerStripes is the number of per-issuer locks. Adds by one issuer touch
// the same sequence, task and rate keys, so the store serialises them up
// front instead of letting most of them lose a Badger conflict.
const issuerStripes = 64

// Store validates attestations and keeps them in Badger. It is safe for
// concurrent use. It does not own the database: closing it is the caller's
// job, after the last call on the Store. Use one Store per database:
// validation stays correct with several (Badger transactions arbitrate),
// but Count and Stats are kept in memory by each Store.
type Store struct {
	db    *badger.DB
	rules Rules
	seed  maphash.Seed
	locks [issuerStripes]sync.Mutex
	count atomic.Int64

	statsMu sync.Mutex
	stats   map[Reason]uint64
}

// Open returns a Store over db with rules (zero fields take their defaults).
// db must be an ordinary (not managed-mode), writable Badger database with
// conflict detection on, which are Badger's defaults; for an acknowledged
// Add to survive a crash, open it with SyncWrites. Other data may share db
// as long as it stays out of the "/polo/" key prefix.
func Open(db *badger.DB, rules Rules) (*Store, error) {
	if db == nil {
		return nil, errors.New("reputation: open: nil database")
	}
	if db.IsClosed() {
		return nil, errors.New("reputation: open: database is closed")
	}
	opts := db.Opts()
	if opts.ReadOnly {
		return nil, errors.New("reputation: open: database is read-only")
	}
	if !opts.DetectConflicts {
		return nil, errors.New("reputation: open: database has conflict detection off")
	}
	if err := probeManaged(db); err != nil {
		return nil, err
	}
	s := &Store{db: db, rules: rules.withDefaults(), seed: maphash.MakeSeed(), stats: map[Reason]uint64{}}
	n := 0
	err := s.scanIDs(nil, func([32]byte) bool { n++; return true })
	if err != nil {
		return nil, fmt.Errorf("reputation: open: count attestations: %w", err)
	}
	s.count.Store(int64(n))
	return s, nil
}

// errProbe aborts the probe transaction of probeManaged.
var errProbe = errors.New("probe")

// probeManaged fails for a managed-mode database, on which Badger's Update
// panics instead of returning an error.
func probeManaged(db *badger.DB) (err error) {
	defer func() {
		if recover() != nil {
			err = errors.New("reputation: open: managed-mode databases are not supported")
		}
	}()
	if err := db.Update(func(*badger.Txn) error { return errProbe }); !errors.Is(err, errProbe) {
		return fmt.Errorf("reputation: open: probe transaction: %w", err)
	}
	return nil
}

// Add validates the attestation encoded in raw and stores it. Checks run in
// this order: decode, signature, self, mismatch, expired, future, lifetime
// (see Rules.Check), then, against the store inside one Badger transaction,
// duplicate, sequence, task_replay, rate. A rejection returns a
// *RejectError, is counted in Stats and writes nothing; a duplicate also
// matches ErrDuplicate. Any other error is a storage failure. When Add
// returns nil the attestation is committed (durably if the database uses
// SyncWrites).
//
// Adding an attestation whose stored copy is corrupt rewrites the copy.
func (s *Store) Add(raw []byte) (Attestation, error) {
	a, err := checkStatic(raw)
	if err != nil {
		s.countErr(err)
		return Attestation{}, err
	}
	id := IDOf(raw)
	mu := &s.locks[maphash.String(s.seed, string(a.Issuer))%issuerStripes]
	mu.Lock()
	defer mu.Unlock()

	var fresh bool
	for attempt := 1; ; attempt++ {
		err = s.db.Update(func(txn *badger.Txn) error {
			var err error
			fresh, err = s.addTxn(txn, a, raw, id)
			return err
		})
		if !errors.Is(err, badger.ErrConflict) || attempt == maxAddAttempts {
			break
		}
		backoff := conflictBase << attempt
		time.Sleep(backoff/2 + rand.N(backoff/2))
	}
	if _, rejected := ReasonOf(err); rejected {
		s.countErr(err)
		return Attestation{}, err
	}
	if err != nil {
		return Attestation{}, fmt.Errorf("reputation: add attestation %x: %w", id[:8], err)
	}
	if fresh {
		s.count.Add(1)
	} else {
		s.countReason(ReasonCorrupt)
	}
	s.countReason(Accepted)
	return a, nil
}

// addTxn runs the clock and stateful checks for a and writes it. fresh is
// false when it only repaired a corrupt stored copy.
func (s *Store) addTxn(txn *badger.Txn, a Attestation, raw []byte, id [32]byte) (fresh bool, err error) {
	if err := s.rules.checkTime(a, s.rules.Now()); err != nil {
		return false, err
	}
	known, err := exists(txn, idKey(id))
	if err != nil {
		return false, err
	}
	if known {
		stored, err := getValue(txn, rawKey(id))
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return false, err
		}
		if err == nil && bytes.Equal(stored, raw) {
			return false, reject(ReasonDuplicate, fmt.Errorf("%w %x", ErrDuplicate, id))
		}
		return false, txn.Set(rawKey(id), raw)
	}

	last, err := getUint64(txn, seqKey(a.Issuer, a.Subject))
	if err != nil {
		return false, err
	}
	if a.Seq <= last {
		return false, reject(ReasonSequence, fmt.Errorf("seq %d not above last stored %d for issuer %s, subject %s", a.Seq, last, a.Issuer, a.Subject))
	}
	tk := taskKey(a.Issuer, a.Subject, a.TaskHash)
	if prev, err := getValue(txn, tk); err == nil {
		return false, reject(ReasonTaskReplay, fmt.Errorf("task %x already attested by %x", a.TaskHash, prev))
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return false, err
	}
	rk := rateKey(a.Issuer, windowOf(a.IssuedAt, s.rules.IssuerWindow))
	used, err := getUint64(txn, rk)
	if err != nil {
		return false, err
	}
	if s.rules.IssuerRate > 0 && used >= uint64(s.rules.IssuerRate) {
		return false, reject(ReasonRate, fmt.Errorf("issuer %s has %d attestations in the %s window", a.Issuer, used, s.rules.IssuerWindow))
	}

	meta := indexMeta{issuer: a.Issuer, subject: a.Subject, issuedAt: a.IssuedAt, expiry: a.Expiry}
	tail := timeIDSuffix(a.IssuedAt, id)
	writes := []struct{ k, v []byte }{
		{rawKey(id), raw},
		{idKey(id), meta.marshal()},
		{key(subjectPrefix(a.Subject), tail), nil},
		{key(issuerPrefix(a.Issuer), tail), nil},
		{seqKey(a.Issuer, a.Subject), u64Part(a.Seq)},
		{tk, id[:]},
		{rk, u64Part(used + 1)},
	}
	for _, w := range writes {
		if err := txn.Set(w.k, w.v); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Attested reports whether issuer has an attestation stored about subject
// for the task taskHash. The record of it outlives Prune, like LastSeq, so
// a pruned attestation still counts.
func (s *Store) Attested(issuer, subject peer.ID, taskHash [32]byte) (bool, error) {
	var found bool
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		found, err = exists(txn, taskKey(issuer, subject, taskHash))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("reputation: attested task %x: %w", taskHash[:8], err)
	}
	return found, nil
}

// Stats returns how many attestations were rejected per Reason, how many
// corrupt stored entries were met (ReasonCorrupt) and how many were stored
// (Accepted), since Open. Reasons never seen are absent.
func (s *Store) Stats() map[Reason]uint64 {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := make(map[Reason]uint64, len(s.stats))
	for r, n := range s.stats {
		out[r] = n
	}
	return out
}

func (s *Store) countReason(r Reason) {
	s.statsMu.Lock()
	s.stats[r]++
	s.statsMu.Unlock()
}

func (s *Store) countErr(err error) {
	if r, ok := ReasonOf(err); ok {
		s.countReason(r)
	}
}

// exists reports whether k is set.
func exists(txn *badger.Txn, k []byte) (bool, error) {
	_, err := txn.Get(k)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	default:
		return false, err
	}
}

// getValue returns a copy of k's value, or badger.ErrKeyNotFound.
func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	item, err := txn.Get(k)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// getUint64 reads a big-endian uint64 value; a missing key reads as 0.
func getUint64(txn *badger.Txn, k []byte) (uint64, error) {
	v, err := getValue(txn, k)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("value of %q has %d bytes, want 8", k, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}
