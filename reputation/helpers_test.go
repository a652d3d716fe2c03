package reputation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// t0 is the fixed "now" of most tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ident is a test identity with a deterministic key.
type ident struct {
	priv crypto.PrivKey
	id   peer.ID
}

// identFromSeed derives an Ed25519 identity from a 32-byte seed.
func identFromSeed(tb testing.TB, seed [32]byte) ident {
	tb.Helper()
	priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed[:]))
	require.NoError(tb, err)
	id, err := peer.IDFromPrivateKey(priv)
	require.NoError(tb, err)
	return ident{priv: priv, id: id}
}

// identN is the n-th test identity.
func identN(tb testing.TB, n uint32) ident {
	var seed [32]byte
	copy(seed[:], "pilot-test-ident")
	binary.BigEndian.PutUint32(seed[28:], n)
	return identFromSeed(tb, seed)
}

// spec describes one test attestation; zero fields get sensible values.
type spec struct {
	worker, requester ident
	task              string
	outcome           Outcome
	cost              uint64
	issuedAt          time.Time
	lifetime          time.Duration
	seq               uint64
}

func hashOf(s string) [32]byte { return sha256.Sum256([]byte(s)) }

// build returns the signed attestation described by sp. It signs without
// SignAttestation's consistency checks, so tests may alter the attestation
// first with edit (nil for none).
func build(tb testing.TB, sp spec, edit func(*Attestation)) Attestation {
	tb.Helper()
	if sp.outcome == 0 {
		sp.outcome = Success
	}
	if sp.issuedAt.IsZero() {
		sp.issuedAt = t0.Add(-time.Minute)
	}
	if sp.lifetime == 0 {
		sp.lifetime = 7 * 24 * time.Hour
	}
	if sp.seq == 0 {
		sp.seq = 1
	}
	if sp.task == "" {
		sp.task = "task"
	}
	r, err := SignReceipt(sp.worker.priv, Receipt{
		Worker:     sp.worker.id,
		Requester:  sp.requester.id,
		TaskHash:   hashOf(sp.task),
		ResultHash: hashOf("result of " + sp.task),
		Outcome:    sp.outcome,
		Cost:       sp.cost,
		EndedAt:    sp.issuedAt.Add(-time.Second),
	})
	require.NoError(tb, err)
	a := NewAttestation(r, sp.issuedAt, sp.issuedAt.Add(sp.lifetime), sp.seq)
	if edit != nil {
		edit(&a)
	}
	return forceSign(tb, sp.requester.priv, a)
}

// forceSign signs a with priv, whatever a says.
func forceSign(tb testing.TB, priv crypto.PrivKey, a Attestation) Attestation {
	tb.Helper()
	body, err := a.body()
	require.NoError(tb, err)
	a.Sig, err = priv.Sign(signedMessage(attestationDomain, body))
	require.NoError(tb, err)
	return a
}

// forceSignReceipt signs r with priv, whatever r says.
func forceSignReceipt(tb testing.TB, priv crypto.PrivKey, r Receipt) Receipt {
	tb.Helper()
	body, err := r.body()
	require.NoError(tb, err)
	r.Sig, err = priv.Sign(signedMessage(receiptDomain, body))
	require.NoError(tb, err)
	return r
}

func mustMarshal(tb testing.TB, a Attestation) []byte {
	tb.Helper()
	raw, err := a.Marshal()
	require.NoError(tb, err)
	return raw
}

// memOptions are small in-memory Badger options for tests.
func memOptions() badger.Options {
	return badger.DefaultOptions("").WithInMemory(true).WithLogger(nil).
		WithMemTableSize(4 << 20).WithValueThreshold(1 << 10).WithBlockCacheSize(1 << 20)
}

// openMem opens an in-memory database closed at the end of the test.
func openMem(tb testing.TB) *badger.DB {
	tb.Helper()
	db, err := badger.Open(memOptions())
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

// fixedRules are default rules with the clock stopped at t0.
func fixedRules() Rules { return Rules{Now: func() time.Time { return t0 }} }

// newStore opens a Store over a fresh in-memory database.
func newStore(tb testing.TB, rules Rules) (*Store, *badger.DB) {
	tb.Helper()
	db := openMem(tb)
	s, err := Open(db, rules)
	require.NoError(tb, err)
	return s, db
}

// dumpKeys returns every key under /polo/ with its value.
func dumpKeys(tb testing.TB, db *badger.DB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	require.NoError(tb, db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(keyPrefix), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out[string(it.Item().KeyCopy(nil))] = string(v)
		}
		return nil
	}))
	return out
}
