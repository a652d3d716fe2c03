package reputation

import (
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

// TestCorruptValueSkipped overwrites stored values on an on-disk database
// and checks that readers skip and count them, and that Add repairs them.
func TestCorruptValueSkipped(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithSyncWrites(true).
		WithMemTableSize(4 << 20).WithValueThreshold(1 << 10).WithBlockCacheSize(1 << 20))
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	s, err := Open(db, fixedRules())
	require.NoError(t, err)

	q := identN(t, 1)
	var raws [][]byte
	var ids [][32]byte
	for i := range 5 {
		raw := mustMarshal(t, build(t, spec{worker: identN(t, uint32(10+i)), requester: q}, nil))
		_, err := s.Add(raw)
		require.NoError(t, err)
		raws, ids = append(raws, raw), append(ids, IDOf(raw))
	}
	flipped := append([]byte(nil), raws[0]...)
	flipped[len(flipped)-10] ^= 0x40 // inside the issuer signature
	corrupt := map[int][]byte{
		0: flipped,
		1: raws[1][:len(raws[1])-1], // truncated: does not decode
		2: raws[3],                  // valid, but under the wrong ID
		3: []byte("garbage"),
	}
	require.NoError(t, db.Update(func(txn *badger.Txn) error {
		for i, v := range corrupt {
			if err := txn.Set(rawKey(ids[i]), v); err != nil {
				return err
			}
		}
		// A by-subject key too short to hold an ID.
		return txn.Set(append(subjectPrefix(identN(t, 14).id), 1, 2, 3), nil)
	}))

	before := s.Stats()[ReasonCorrupt]
	for i := range 4 {
		raw, ok, err := s.Get(ids[i])
		require.NoError(t, err)
		require.False(t, ok, "corrupt entry %d returned", i)
		require.Nil(t, raw)
	}
	require.Equal(t, before+4, s.Stats()[ReasonCorrupt])

	got, ok, err := s.Get(ids[4])
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, raws[4], got)

	byIssuer, err := s.ByIssuer(q.id)
	require.NoError(t, err)
	require.Len(t, byIssuer, 1)
	require.Equal(t, ids[4], byIssuer[0].ID())
	bySubject, err := s.BySubject(identN(t, 14).id)
	require.NoError(t, err)
	require.Len(t, bySubject, 1)
	var each [][32]byte
	require.NoError(t, s.Each(func(a Attestation) error { each = append(each, a.ID()); return nil }))
	require.Equal(t, [][32]byte{ids[4]}, each)

	// Adding the original bytes again repairs the stored copy.
	for i := range 4 {
		_, err := s.Add(raws[i])
		require.NoError(t, err, "repair %d", i)
		got, ok, err := s.Get(ids[i])
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, raws[i], got)
	}
	require.Equal(t, 5, s.Count())
	_, err = s.Add(raws[0])
	require.ErrorIs(t, err, ErrDuplicate)

	// A corrupt ID-index value is pruned rather than trusted.
	require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set(idKey(ids[0]), []byte{9}) }))
	n, err := s.Prune()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 4, s.Count())
}
