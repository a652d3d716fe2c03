package trust

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
)

var bg = context.Background()

func TestRequestApprove(t *testing.T) {
	checkLeaks(t)
	a, b := newNode(t, nil, ""), newNode(t, nil, "")
	a.know(b)

	rec, err := a.m.Request(bg, b.id, "let's trade tasks\nplease")
	require.NoError(t, err)
	require.Equal(t, StateOutgoingPending, rec.State)
	require.Equal(t, DirectionOutgoing, rec.Direction)
	wantAddr, err := addressing.FromPeerID(b.id)
	require.NoError(t, err)
	require.Equal(t, wantAddr, rec.Addr)
	a.waitEvent(EventRequestSent, b.id)

	ev := b.waitEvent(EventRequestReceived, a.id)
	require.Equal(t, "let's trade tasks\nplease", ev.Message)
	require.Equal(t, DirectionIncoming, ev.Direction)
	got, ok, err := b.m.Get(a.id)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, StateIncomingPending, got.State)
	require.Equal(t, "let's trade tasks\nplease", got.Message)
	pend, err := b.m.Pending()
	require.NoError(t, err)
	require.Len(t, pend, 1)
	pend, err = a.m.Pending()
	require.NoError(t, err)
	require.Len(t, pend, 1)
	require.False(t, a.m.IsTrusted(b.id))
	require.False(t, b.m.IsTrusted(a.id))
	// Delivered: nothing left in the requester's outbox.
	out, err := a.m.Outbox()
	require.NoError(t, err)
	require.Empty(t, out)

	rec, err = b.m.Approve(bg, a.id)
	require.NoError(t, err)
	require.Equal(t, StateTrusted, rec.State)
	require.True(t, b.m.IsTrusted(a.id))
	a.waitState(b.id, StateTrusted)
	a.waitEvent(EventTrusted, b.id)
	require.True(t, a.m.IsTrusted(b.id))
	require.Equal(t, []peer.ID{b.id}, a.m.Trusted())
	require.Equal(t, []peer.ID{a.id}, b.m.Trusted())

	// Idempotence and clear errors.
	_, err = b.m.Approve(bg, a.id)
	require.ErrorIs(t, err, ErrAlreadyTrusted)
	_, err = a.m.Request(bg, b.id, "again")
	require.ErrorIs(t, err, ErrAlreadyTrusted)
	list, err := a.m.List()
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestReject(t *testing.T) {
	checkLeaks(t)
	a, b := newNode(t, nil, ""), newNode(t, nil, "")
	a.know(b)
	_, err := a.m.Request(bg, b.id, "hi")
	require.NoError(t, err)
	b.waitState(a.id, StateIncomingPending)

	rec, err := b.m.Reject(bg, a.id)
	require.NoError(t, err)
	require.Equal(t, StateRejected, rec.State)
	require.Equal(t, DirectionOutgoing, rec.Direction)
	a.waitState(b.id, StateRejected)
	a.waitEvent(EventRejected, b.id)
	got, _, err := a.m.Get(b.id)
	require.NoError(t, err)
	require.Equal(t, DirectionIncoming, got.Direction)
	require.False(t, a.m.IsTrusted(b.id))
	require.False(t, b.m.IsTrusted(a.id))

	// A rejected peer asking again is ignored during the cooldown.
	_, err = a.m.Request(bg, b.id, "pretty please")
	require.NoError(t, err)
	b.waitStat("ignored_request_rejected", 1)
	require.Equal(t, StateRejected, b.state(a.id))
	_, err = b.m.Reject(bg, a.id)
	require.ErrorIs(t, err, ErrNotPending)
}

func TestRevoke(t *testing.T) {
	checkLeaks(t)
	a, b := newNode(t, nil, ""), newNode(t, nil, "")
	a.know(b)
	_, err := a.m.Request(bg, b.id, "hi")
	require.NoError(t, err)
	b.waitState(a.id, StateIncomingPending)
	_, err = b.m.Approve(bg, a.id)
	require.NoError(t, err)
	a.waitState(b.id, StateTrusted)

	rec, err := a.m.Revoke(bg, b.id)
	require.NoError(t, err)
	require.Equal(t, StateRevoked, rec.State)
	require.False(t, a.m.IsTrusted(b.id), "revocation is immediate")
	b.waitState(a.id, StateRevoked)
	b.waitEvent(EventRevoked, a.id)
	require.False(t, b.m.IsTrusted(a.id))
	require.Empty(t, b.m.Trusted())

	// Revoking again is a no-op; a revoked peer may ask again.
	_, err = a.m.Revoke(bg, b.id)
	require.NoError(t, err)
	_, err = b.m.Request(bg, a.id, "sorry")
	require.NoError(t, err)
	a.waitState(b.id, StateIncomingPending)
}

func TestMutualRequests(t *testing.T) {
	checkLeaks(t)
	t.Run("sequential", func(t *testing.T) {
		a, b := newNode(t, nil, ""), newNode(t, nil, "")
		a.know(b)
		b.know(a)
		_, err := a.m.Request(bg, b.id, "from a")
		require.NoError(t, err)
		b.waitState(a.id, StateIncomingPending)
		rec, err := b.m.Request(bg, a.id, "from b")
		require.NoError(t, err)
		require.Equal(t, StateTrusted, rec.State, "mutual request auto-approves")
		a.waitState(b.id, StateTrusted)
		require.True(t, a.m.IsTrusted(b.id))
		require.True(t, b.m.IsTrusted(a.id))
	})
	t.Run("crossing", func(t *testing.T) {
		// Both ask while neither can reach the other; once they can, the
		// requests cross and both sides auto-approve.
		a, b := newNode(t, nil, ""), newNode(t, nil, "")
		_, err := a.m.Request(bg, b.id, "from a")
		require.NoError(t, err)
		_, err = b.m.Request(bg, a.id, "from b")
		require.NoError(t, err)
		require.Equal(t, StateOutgoingPending, a.state(b.id))
		a.know(b)
		b.know(a)
		a.waitState(b.id, StateTrusted)
		b.waitState(a.id, StateTrusted)
		require.Eventually(t, func() bool {
			oa, _ := a.m.Outbox()
			ob, _ := b.m.Outbox()
			return len(oa) == 0 && len(ob) == 0
		}, waitFor, 5*time.Millisecond)
	})
}

func TestOperatorErrors(t *testing.T) {
	checkLeaks(t)
	a, b := newNode(t, nil, ""), newNode(t, nil, "")
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"request self", func() error { _, err := a.m.Request(bg, a.id, ""); return err }, ErrSelf},
		{"request invalid peer", func() error { _, err := a.m.Request(bg, "bogus", ""); return err }, ErrInvalidPeer},
		{"message too long", func() error { _, err := a.m.Request(bg, b.id, strings.Repeat("x", 1025)); return err }, ErrMessageTooLong},
		{"message not utf-8", func() error { _, err := a.m.Request(bg, b.id, "\xff"); return err }, ErrInvalidMessage},
		{"message with escape", func() error { _, err := a.m.Request(bg, b.id, "\x1b[2J"); return err }, ErrInvalidMessage},
		{"approve unknown", func() error { _, err := a.m.Approve(bg, b.id); return err }, ErrNotPending},
		{"reject unknown", func() error { _, err := a.m.Reject(bg, b.id); return err }, ErrNotPending},
		{"revoke unknown", func() error { _, err := a.m.Revoke(bg, b.id); return err }, ErrNotFound},
		{"cancelled", func() error {
			ctx, cancel := context.WithCancel(bg)
			cancel()
			_, err := a.m.Request(ctx, b.id, "")
			return err
		}, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { require.ErrorIs(t, c.call(), c.want) })
	}
	list, err := a.m.List()
	require.NoError(t, err)
	require.Empty(t, list, "failed calls store nothing")
	_, err = a.m.Request(bg, b.id, strings.Repeat("é", 512)) // 1024 bytes
	require.NoError(t, err)
	_, err = a.m.Approve(bg, b.id)
	require.ErrorIs(t, err, ErrNotPending)

	m := a.m
	a.stop()
	_, err = m.Request(bg, b.id, "")
	require.ErrorIs(t, err, ErrNotRunning)
}

func TestLifecycle(t *testing.T) {
	checkLeaks(t)
	a := newNode(t, nil, "")
	require.Error(t, a.m.Start(bg), "second Start")
	require.NoError(t, a.m.Close())
	require.NoError(t, a.m.Close(), "Close is idempotent")

	// A manager that never started closes fine and refuses operations.
	db := openDB(t, "")
	defer db.Close()
	h := newHost(t, newKey(t))
	defer h.Close()
	m, err := New(Config{Host: h, DB: db}) // key from the peerstore
	require.NoError(t, err)
	_, err = m.Request(bg, a.id, "")
	require.ErrorIs(t, err, ErrNotRunning)
	require.NoError(t, m.Close())
	require.ErrorIs(t, m.Start(bg), ErrNotRunning)

	_, err = New(Config{Host: h, DB: db, Key: newKey(t)})
	require.Error(t, err, "key of another peer")
	_, err = New(Config{DB: db})
	require.Error(t, err)
	_, err = New(Config{Host: h})
	require.Error(t, err)
}
