package reputation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAttested: a task counts as attested once its attestation is stored,
// for that issuer and subject only, and still after the attestation was
// pruned (a node restarting after a crash must not attest it again).
func TestAttested(t *testing.T) {
	now := t0
	s, _ := newStore(t, Rules{Now: func() time.Time { return now }})
	q, w, other := identN(t, 1), identN(t, 2), identN(t, 3)
	task := hashOf("crash-task")

	got, err := s.Attested(q.id, w.id, task)
	require.NoError(t, err)
	require.False(t, got, "nothing stored yet")

	_, err = s.Add(mustMarshal(t, build(t, spec{worker: w, requester: q, task: "crash-task", lifetime: 2 * 24 * time.Hour}, nil)))
	require.NoError(t, err)
	for _, c := range []struct {
		issuer, subject ident
		task            [32]byte
		want            bool
	}{
		{q, w, task, true},
		{q, w, hashOf("another task"), false},
		{q, other, task, false},
		{w, q, task, false},
	} {
		got, err := s.Attested(c.issuer.id, c.subject.id, c.task)
		require.NoError(t, err)
		require.Equal(t, c.want, got, "issuer %s subject %s", c.issuer.id, c.subject.id)
	}

	now = t0.Add(3 * 24 * time.Hour)
	n, err := s.Prune()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err = s.Attested(q.id, w.id, task)
	require.NoError(t, err)
	require.True(t, got, "a pruned attestation still counts")
}
