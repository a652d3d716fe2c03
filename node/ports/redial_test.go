package ports

import (
	"context"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// TestRedial: Dial calls the redial hook only when the failed stream left
// no connection to the peer, and then tries once more.
func TestRedial(t *testing.T) {
	checkLeaks(t)
	ctx := context.Background()
	a, b := newHost(t), newHost(t)
	ma, mb := New(a, nil), New(b, nil)
	defer ma.Close()
	defer mb.Close()
	l, err := mb.Listen(7)
	require.NoError(t, err)
	wg := echoServer(l)
	defer wg.Wait() // after l.Close
	defer l.Close()

	var calls int
	gone := errors.New("gone")
	fail := false
	ma.SetRedial(func(ctx context.Context, p peer.ID) error {
		calls++
		if fail {
			return gone
		}
		return a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()})
	})

	// Not connected, no address known: the first stream cannot open; the
	// hook connects and the second attempt works.
	c, err := ma.Dial(ctx, b.ID(), 7)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.Equal(t, 1, calls)

	// A refusal comes over a live connection: no redial.
	_, err = ma.Dial(ctx, b.ID(), 9999)
	require.ErrorIs(t, err, ErrPortClosed)
	require.Equal(t, 1, calls)

	// The peer is unreachable again and the hook fails: both errors tell.
	require.NoError(t, a.Network().ClosePeer(b.ID()))
	a.Peerstore().ClearAddrs(b.ID())
	fail = true
	_, err = ma.Dial(ctx, b.ID(), 7)
	require.ErrorIs(t, err, gone)
	require.ErrorContains(t, err, "connecting again")
	require.Equal(t, 2, calls)
}
