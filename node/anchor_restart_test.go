package node

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

// freePort finds a TCP port nobody listens on, so a restarted anchor can
// come back on the address its clients know.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestAnchorRestart: the anchor goes away mid-session and comes back. The
// direct session between two trusted private nodes survives; once the
// anchor is back the nodes hold reservations again at once (not an hour
// later, at renewal time), and a newcomer reaches them through it.
func TestAnchorRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	acfg := TestnetConfig()
	acfg.Anchor = true
	acfg.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/" + strconv.Itoa(freePort(t))}
	anchor, err := New(acfg)
	require.NoError(t, err)
	require.NoError(t, anchor.Start(ctx))
	defer func() { anchor.Close() }()
	b, c := startPrivate(t, anchor), startPrivate(t, anchor)
	bt, ct := &fakeTrust{}, &fakeTrust{}
	bt.add(c.PeerID())
	ct.add(b.PeerID())
	b.trust, c.trust = bt, ct
	eventually(t, 30*time.Second, func() error {
		if len(b.RelayReservations()) == 0 {
			return errors.New("no reservation yet")
		}
		res, err := c.Resolve(ctx, b.Addr())
		if err == nil && len(res.Record.Addrs) == 0 {
			return errors.New("record without relay addresses yet")
		}
		return err
	})
	_, err = c.Connect(ctx, b.Addr())
	require.NoError(t, err)
	c.goDirect(ctx, b.PeerID())
	require.True(t, c.hasDirectConn(b.PeerID()), "trusted peers on one host go direct")

	require.True(t, b.natKeeper.alive(ctx, anchor.PeerID()), "the keeper's probe sees a live anchor")
	priv := anchor.priv
	require.NoError(t, anchor.Close())
	require.False(t, b.natKeeper.alive(ctx, anchor.PeerID()), "the probe reports a gone anchor (and never dials)")
	out, _, err := c.Echo(ctx, b.Addr(), "still here")
	require.NoError(t, err, "the direct session survives the anchor")
	require.Equal(t, "still here", out)

	anchor, err = NewWithIdentity(acfg, priv)
	require.NoError(t, err)
	require.NoError(t, anchor.Start(ctx))
	eventually(t, 30*time.Second, func() error {
		for _, n := range []*Node{b, c} {
			if !containsPeer(n.RelayReservations(), anchor.PeerID()) {
				return errors.New("no reservation on the restarted anchor yet")
			}
		}
		return nil
	})
	require.NoError(t, b.SetPortPublic(ports.PortEcho, true))
	d := startPrivate(t, anchor)
	eventually(t, 30*time.Second, func() error {
		out, _, err := d.Echo(ctx, b.Addr(), "newcomer")
		if err == nil && out != "newcomer" {
			return errors.New("wrong echo")
		}
		return err
	})
	for _, n := range []*Node{d, c, b, anchor} {
		require.NoError(t, n.Close())
	}
}

func containsPeer(ps []peer.ID, p peer.ID) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}
