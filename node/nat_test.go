package node

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/autonatv2"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

func mustMA(t *testing.T, s string) ma.Multiaddr {
	t.Helper()
	a, err := ma.NewMultiaddr(s)
	require.NoError(t, err)
	return a
}

// (d) The DCUtR address filter: untrusted peers get nothing and their
// addresses are ignored; trusted peers get the addresses, without relays.
func TestHolePunchFilterOnlyForTrustedPeers(t *testing.T) {
	trusted, stranger := peer.ID("trusted"), peer.ID("stranger")
	st := newNATState()
	f := holePunchFilter{st}
	addrs := []ma.Multiaddr{
		mustMA(t, "/ip4/203.0.113.7/udp/4410/quic-v1"),
		mustMA(t, "/ip4/203.0.113.7/tcp/4410"),
		mustMA(t, "/ip4/198.51.100.1/tcp/4410/p2p/12D3KooWLsbmxqhUyyhALgbStHhZmrXGdKLCdSdPvCeVfq4NnXnS/p2p-circuit"),
	}
	// Before the trust manager is bound, nobody is trusted.
	require.Empty(t, f.FilterLocal(trusted, addrs))
	require.Empty(t, f.FilterRemote(trusted, addrs))

	st.bind(func(p peer.ID) bool { return p == trusted }, func(peer.ID) []network.Conn { return nil })
	require.Empty(t, f.FilterLocal(stranger, addrs), "our addresses to an untrusted peer")
	require.Empty(t, f.FilterRemote(stranger, addrs), "an untrusted peer's addresses (we would dial them)")
	require.Equal(t, addrs[:2], f.FilterLocal(trusted, addrs))
	require.Equal(t, addrs[:2], f.FilterRemote(trusted, addrs))
}

type fakeConnAddrs struct{ local, remote ma.Multiaddr }

func (f fakeConnAddrs) LocalMultiaddr() ma.Multiaddr  { return f.local }
func (f fakeConnAddrs) RemoteMultiaddr() ma.Multiaddr { return f.remote }

func TestNATGuess(t *testing.T) {
	now := time.Now()
	local := "/ip4/10.0.0.2/udp/4410/quic-v1"
	obs := func(g *natGuesser, localAddr, observer, observed string) {
		g.observe(fakeConnAddrs{mustMA(t, localAddr), mustMA(t, observer)}, mustMA(t, observed), now)
	}

	g := newNATGuesser()
	require.Equal(t, NATUnknown, g.guess(now))
	obs(g, "/ip4/127.0.0.1/tcp/4410", "/ip4/127.0.0.1/tcp/5000", "/ip4/127.0.0.1/tcp/4410")
	require.Equal(t, NATUnknown, g.guess(now), "loopback says nothing")
	obs(g, "/ip4/10.0.0.2/tcp/4410", "/ip4/10.0.0.3/tcp/4410", "/ip4/10.0.0.2/tcp/4410")
	require.Equal(t, NATUnknown, g.guess(now), "a LAN neighbour says nothing")

	g = newNATGuesser()
	obs(g, "/ip4/203.0.113.7/tcp/4410", "/ip4/198.51.100.1/tcp/4410", "/ip4/203.0.113.7/tcp/4410")
	require.Equal(t, NATPublic, g.guess(now))

	g = newNATGuesser()
	obs(g, local, "/ip4/198.51.100.1/udp/4410/quic-v1", "/ip4/203.0.113.9/udp/61000/quic-v1")
	require.Equal(t, NATBehind, g.guess(now), "one observer: a NAT, type unknown")
	obs(g, local, "/ip4/198.51.100.2/udp/4410/quic-v1", "/ip4/203.0.113.9/udp/61000/quic-v1")
	require.Equal(t, NATCone, g.guess(now), "two observers, one mapping")
	obs(g, local, "/ip4/198.51.100.3/udp/4410/quic-v1", "/ip4/203.0.113.9/udp/61007/quic-v1")
	require.Equal(t, NATSymmetric, g.guess(now), "a mapping per destination")
	require.Equal(t, NATUnknown, g.guess(now.Add(natObsTTL+time.Minute)), "observations expire")
}

func TestReservationGuardProtectsRelayClients(t *testing.T) {
	cm, err := connmgr.NewConnManager(1, 2)
	require.NoError(t, err)
	defer cm.Close()
	g := newReservationGuard(cm, time.Hour)
	require.True(t, g.AllowReserve("client", nil))
	require.True(t, cm.IsProtected("client", relayClientTag))
	require.True(t, g.protected("client"))

	expired := newReservationGuard(cm, -time.Second)
	require.True(t, expired.AllowReserve("old", nil))
	require.True(t, expired.AllowReserve("new", nil)) // sweeps "old"
	require.False(t, cm.IsProtected("old", relayClientTag))
}

func TestAnchorRunsAutoNATRelayAndIsPublic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	checkLeaks(t)
	cfg := TestnetConfig()
	cfg.Anchor = true
	n, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	defer n.Close()
	require.Equal(t, "public", n.Reachability(), "ForceReachabilityPublic")
	require.NotNil(t, n.nat.guard, "relay ACL that protects reservation holders")
	eventually(t, 10*time.Second, func() error {
		for _, p := range n.host.Mux().Protocols() {
			if strings.HasPrefix(string(p), "/libp2p/circuit/relay/0.2.0/hop") {
				return nil
			}
		}
		return errString("relay service not running")
	})
	require.Contains(t, n.host.Mux().Protocols(), protocolAutoNATv1)
	require.NoError(t, n.Close())
}

const protocolAutoNATv1 = protocol.ID("/libp2p/autonat/1.0.0")

func echoOver(t *testing.T, c *ports.Conn, text string) {
	t.Helper()
	_, err := io.WriteString(c, text)
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	b, err := io.ReadAll(c)
	require.NoError(t, err)
	require.Equal(t, text, string(b))
	c.Close()
}

// TestRelayThenDirect covers the relay → direct upgrade between two private
// nodes on loopback (DCUtR itself never runs on loopback: no public
// address; the direct path comes from the addrs protocol or the test).
func TestRelayThenDirect(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	anchor, b, c := privateTrio(t)
	ctx := context.Background()
	bTrust, cTrust := &fakeTrust{}, &fakeTrust{}
	b.trust, c.trust = bTrust, cTrust
	require.NoError(t, b.SetPortPublic(ports.PortEcho, true))

	require.NotEmpty(t, b.RelayReservations(), "b holds a reservation on the anchor")
	require.Equal(t, []peer.ID{anchor.PeerID()}, b.RelayReservations())
	require.True(t, b.host.ConnManager().IsProtected(anchor.PeerID(), relayReservationTag))
	status, err := apiBackend{n: b}.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{anchor.PeerID().String()}, status.RelayReservations)
	require.NotEmpty(t, status.PublishedAddrs)
	for _, a := range status.PublishedAddrs {
		require.Contains(t, a, "/p2p-circuit", "a private node publishes relay addresses only")
	}
	require.Equal(t, NATUnknown, status.NAT, "loopback observations say nothing")
	eventually(t, 10*time.Second, func() error {
		if !anchor.nat.guard.protected(b.PeerID()) {
			return errString("anchor does not protect b's connection yet")
		}
		return nil
	})

	// (a) Untrusted and relay-only: the stream opens on the relay at once.
	start := time.Now()
	conn, err := c.DialAddr(ctx, b.Addr(), ports.PortEcho)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 10*time.Second, "no 60 s wait for a direct connection")
	require.True(t, conn.Relayed())
	echoOver(t, conn, "over the relay")
	st, err := c.Ping(ctx, b.Addr(), 2)
	require.NoError(t, err)
	require.True(t, st.Relayed, "ping's path is the relay")
	require.True(t, isCircuit(st.Remote))

	// b (private) never dials c's direct addresses while c, untrusted,
	// came only through the relay: c would learn b's IP.
	cDirect := peer.AddrInfo{ID: c.PeerID(), Addrs: directAddrs(c.host)}
	dctx, cancel := context.WithTimeout(network.WithForceDirectDial(ctx, "test"), 5*time.Second)
	err = b.host.Connect(dctx, cDirect)
	cancel()
	require.ErrorContains(t, err, "gater", "the gater refuses the dial")
	require.False(t, b.hasDirectConn(c.PeerID()))

	// (b) WaitDirect gives up after its bound when nothing comes.
	start = time.Now()
	require.False(t, c.WaitDirect(ctx, b.PeerID(), 300*time.Millisecond))
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)

	// (c) c trusts b, b does not trust c: no direct path can appear, so
	// DialBulk waits DirectWait, then uses the relay.
	cTrust.add(b.PeerID())
	c.cfg.DirectWait = 500 * time.Millisecond
	start = time.Now()
	conn, err = c.DialBulk(ctx, b.Addr(), ports.PortEcho)
	took := time.Since(start)
	require.NoError(t, err)
	require.GreaterOrEqual(t, took, 500*time.Millisecond)
	require.Less(t, took, 5*time.Second)
	require.True(t, conn.Relayed())
	echoOver(t, conn, "bulk over the relay")

	// (b) WaitDirect returns as soon as a direct connection appears: the
	// test connects directly once WaitDirect waits for events.
	bTrust.add(c.PeerID())
	bDirect := peer.AddrInfo{ID: b.PeerID(), Addrs: directAddrs(b.host)}
	// The upgrade started in (c) may wait too and call the hook: one
	// connect is enough.
	connectErr := make(chan error, 1)
	var once sync.Once
	hook := func(peer.ID) {
		once.Do(func() {
			go func() {
				dctx, cancel := context.WithTimeout(network.WithForceDirectDial(ctx, "test"), 10*time.Second)
				defer cancel()
				connectErr <- c.host.Connect(dctx, bDirect)
			}()
		})
	}
	c.nat.waiting.Store(&hook)
	start = time.Now()
	require.True(t, c.WaitDirect(ctx, b.PeerID(), time.Minute))
	require.Less(t, time.Since(start), 15*time.Second)
	require.NoError(t, <-connectErr)
	c.nat.waiting.Store(nil)

	// New streams and pings go direct now.
	conn, err = c.DialAddr(ctx, b.Addr(), ports.PortEcho)
	require.NoError(t, err)
	require.False(t, conn.Relayed())
	echoOver(t, conn, "direct")
	st, err = c.Ping(ctx, b.Addr(), 1)
	require.NoError(t, err)
	require.False(t, st.Relayed)
	require.False(t, isCircuit(st.Remote))

	// Back to relay-only; DialBulk (trusted both ways) finds the direct
	// path through the addrs protocol well within its bound and uses it.
	// The upgrade started in (c) ends first, having seen the direct
	// connection: closing that connection under it would leave the new
	// DialBulk waiting on an attempt that is over.
	waitUpgradeIdle(t, c, b.PeerID())
	for _, cn := range c.host.Network().ConnsToPeer(b.PeerID()) {
		if !isRelayed(cn) {
			require.NoError(t, cn.Close())
		}
	}
	require.False(t, c.hasDirectConn(b.PeerID()))
	require.True(t, c.usableConn(b.PeerID()), "the relayed connection stays")
	c.cfg.DirectWait = 30 * time.Second
	start = time.Now()
	conn, err = c.DialBulk(ctx, b.Addr(), ports.PortEcho)
	require.NoError(t, err)
	require.Less(t, time.Since(start), 15*time.Second)
	require.False(t, conn.Relayed(), "bulk data waited for the direct path")
	echoOver(t, conn, "bulk direct")

	for _, n := range []*Node{c, b, anchor} {
		require.NoError(t, n.Close())
	}
}

// waitUpgradeIdle waits until n has no upgrade to p in flight.
func waitUpgradeIdle(t *testing.T, n *Node, p peer.ID) {
	t.Helper()
	n.nat.mu.Lock()
	done := n.nat.upgrading[p]
	n.nat.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("an upgrade to the peer is still running after a minute")
	}
}

func TestWaitDirectOnStoppedNode(t *testing.T) {
	n, err := New(TestnetConfig())
	require.NoError(t, err)
	require.False(t, n.WaitDirect(context.Background(), "x", time.Second))
	require.Equal(t, NATUnknown, n.NATGuess())
	require.Empty(t, n.RelayReservations())
}

// TestAutoNATv2OnlyAnchorsServe: with AutoNAT v2 on, every node runs the
// client, but only an anchor offers the dial-back service - so a node's
// direct addresses go only to anchors for checking, and a plain node never
// dials addresses a stranger chose.
func TestAutoNATv2OnlyAnchorsServe(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	acfg := TestnetConfig()
	acfg.Anchor, acfg.AutoNATv2 = true, true
	anchor, err := New(acfg)
	require.NoError(t, err)
	require.NoError(t, anchor.Start(context.Background()))
	defer anchor.Close()
	cfg := TestnetConfig()
	cfg.Public, cfg.DHTMode, cfg.AutoNATv2 = false, "", true
	cfg.Bootstrap = anchor.JoinAddrs()
	n, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	defer n.Close()

	require.Contains(t, anchor.host.Mux().Protocols(), protocol.ID(autonatv2.DialProtocol))
	require.NotContains(t, n.host.Mux().Protocols(), protocol.ID(autonatv2.DialProtocol))
	require.Contains(t, n.host.Mux().Protocols(), protocol.ID(autonatv2.DialBackProtocol), "the client half stays")
	reach, unreach := n.ConfirmedAddrs()
	require.Empty(t, reach, "loopback addresses are never checked")
	require.Empty(t, unreach)
}
