package reputation

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/require"
)

func TestStoreReadAPI(t *testing.T) {
	s, _ := newStore(t, fixedRules())
	w1, w2, q1, q2 := identN(t, 1), identN(t, 2), identN(t, 3), identN(t, 4)
	raws := map[[32]byte][]byte{}
	add := func(sp spec) Attestation {
		raw := mustMarshal(t, build(t, sp, nil))
		a, err := s.Add(raw)
		require.NoError(t, err)
		raws[a.ID()] = raw
		require.Equal(t, IDOf(raw), a.ID())
		return a
	}
	a1 := add(spec{worker: w1, requester: q1, task: "1", issuedAt: t0.Add(-3 * time.Minute)})
	a2 := add(spec{worker: w1, requester: q1, task: "2", issuedAt: t0.Add(-2 * time.Minute), seq: 2})
	a3 := add(spec{worker: w1, requester: q2, task: "3", issuedAt: t0.Add(-4 * time.Minute)})
	a4 := add(spec{worker: w2, requester: q1, task: "4", seq: 9})

	require.Equal(t, 4, s.Count())
	for id, raw := range raws {
		got, ok, err := s.Get(id)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, raw, got)
		has, err := s.Has(id)
		require.NoError(t, err)
		require.True(t, has)
	}
	missing := [32]byte{1}
	got, ok, err := s.Get(missing)
	require.NoError(t, err)
	require.False(t, ok)
	require.Nil(t, got)
	has, err := s.Has(missing)
	require.NoError(t, err)
	require.False(t, has)

	ids := func(as []Attestation) (out [][32]byte) {
		for _, a := range as {
			out = append(out, a.ID())
		}
		return out
	}
	bs, err := s.BySubject(w1.id)
	require.NoError(t, err)
	require.Equal(t, [][32]byte{a3.ID(), a1.ID(), a2.ID()}, ids(bs), "oldest IssuedAt first")
	bi, err := s.ByIssuer(q1.id)
	require.NoError(t, err)
	require.Equal(t, [][32]byte{a1.ID(), a2.ID(), a4.ID()}, ids(bi))
	none, err := s.BySubject(q1.id)
	require.NoError(t, err)
	require.Empty(t, none)

	seen := map[[32]byte]bool{}
	var last [32]byte
	require.NoError(t, s.Each(func(a Attestation) error {
		id := a.ID()
		require.Less(t, string(last[:]), string(id[:]), "ascending ID order")
		last, seen[id] = id, true
		return nil
	}))
	require.Len(t, seen, 4)
	stop := errors.New("stop")
	calls := 0
	err = s.Each(func(Attestation) error { calls++; return stop })
	require.ErrorIs(t, err, stop)
	require.ErrorContains(t, err, "reputation: each")
	require.Equal(t, 1, calls)

	for _, c := range []struct {
		i, s ident
		want uint64
	}{{q1, w1, 2}, {q2, w1, 1}, {q1, w2, 9}, {q2, w2, 0}} {
		seq, err := s.LastSeq(c.i.id, c.s.id)
		require.NoError(t, err)
		require.Equal(t, c.want, seq)
	}
	require.Equal(t, map[Reason]uint64{Accepted: 4}, s.Stats())
}

func TestReopenKeepsCount(t *testing.T) {
	db := openMem(t)
	s, err := Open(db, fixedRules())
	require.NoError(t, err)
	for i := range 5 {
		_, err := s.Add(mustMarshal(t, build(t, spec{worker: identN(t, uint32(10+i)), requester: identN(t, 1)}, nil)))
		require.NoError(t, err)
	}
	s2, err := Open(db, fixedRules())
	require.NoError(t, err)
	require.Equal(t, 5, s2.Count())
}

func TestOpenRejectsUnsuitableDB(t *testing.T) {
	_, err := Open(nil, Rules{})
	require.ErrorContains(t, err, "reputation: open")

	db, err := badger.Open(memOptions().WithDetectConflicts(false))
	require.NoError(t, err)
	_, err = Open(db, Rules{})
	require.ErrorContains(t, err, "conflict detection")
	require.NoError(t, db.Close())
	_, err = Open(db, Rules{})
	require.ErrorContains(t, err, "closed")

	mdb, err := badger.OpenManaged(memOptions())
	require.NoError(t, err)
	defer mdb.Close()
	_, err = Open(mdb, Rules{})
	require.ErrorContains(t, err, "managed")
}

func TestPrune(t *testing.T) {
	now := t0
	rules := Rules{Now: func() time.Time { return now }}
	s, db := newStore(t, rules)
	q := identN(t, 1)
	var short, long [][32]byte
	for i := range 6 {
		life := 2 * 24 * time.Hour
		if i%2 == 1 {
			life = 60 * 24 * time.Hour // outlives MaxAge: pruned by age
		}
		a, err := s.Add(mustMarshal(t, build(t, spec{worker: identN(t, uint32(10+i)), requester: q, lifetime: life}, nil)))
		require.NoError(t, err)
		if i%2 == 0 {
			short = append(short, a.ID())
		} else {
			long = append(long, a.ID())
		}
	}
	n, err := s.Prune()
	require.NoError(t, err)
	require.Zero(t, n)

	now = t0.Add(3 * 24 * time.Hour)
	n, err = s.Prune()
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, 3, s.Count())
	for _, id := range short {
		has, err := s.Has(id)
		require.NoError(t, err)
		require.False(t, has)
	}
	bi, err := s.ByIssuer(q.id)
	require.NoError(t, err)
	require.Len(t, bi, 3)

	now = t0.Add(31 * 24 * time.Hour)
	n, err = s.Prune()
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Zero(t, s.Count())

	// Only the sequence and task bookkeeping remains.
	for k := range dumpKeys(t, db) {
		require.Contains(t, []string{prefixSeq, prefixTask}, k[:len(prefixSeq)], "%q", k)
	}
	seq, err := s.LastSeq(q.id, identN(t, 10).id)
	require.NoError(t, err)
	require.Equal(t, uint64(1), seq)
}

func TestRejectErrorFormat(t *testing.T) {
	err := error(reject(ReasonRate, fmt.Errorf("too many")))
	require.Equal(t, "reputation: attestation rejected (rate): too many", err.Error())
	_, ok := ReasonOf(errors.New("plain"))
	require.False(t, ok)
}
