package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/swarmkey"
)

func newSwarmKey(t *testing.T) *swarmkey.Key {
	t.Helper()
	k, err := swarmkey.Generate()
	require.NoError(t, err)
	return &k
}

// swarmConfig is the testnet preset inside swarm k (nil: public mesh).
func swarmConfig(k *swarmkey.Key) func() Config {
	return func() Config {
		c := TestnetConfig()
		c.SwarmKey = k
		return c
	}
}

// TestSwarmIsolation is issue 5's acceptance 1 on loopback: a swarm of an
// anchor and three nodes with key K next to a public mesh of three nodes.
// Inside the swarm resolve, send and publish/subscribe work; across the
// boundary every resolve, dial, find and subscribe fails cleanly, both
// ways; a node with another key K2 cannot enter and learns nothing.
func TestSwarmIsolation(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	k := newSwarmKey(t)
	swarm := startMeshWith(t, 4, func() Config {
		c := swarmConfig(k)()
		return c
	})
	public := startMeshWith(t, 3, TestnetConfig)
	defer func() {
		for _, n := range append(append([]*Node{}, swarm...), public...) {
			require.NoError(t, n.Close())
		}
	}()
	for _, n := range swarm {
		require.Equal(t, k.ID(), n.cfg.Network())
		require.Equal(t, []string{"tcp"}, n.cfg.Transports())
		for _, a := range n.host.Addrs() {
			require.NotContains(t, a.String(), "quic", "a private swarm is TCP-only")
		}
	}
	require.Equal(t, PublicNetwork, public[0].cfg.Network())

	// Inside the swarm: resolve, send, publish/subscribe, find.
	a, b := swarm[1], swarm[3]
	eventually(t, 30*time.Second, func() error {
		_, err := a.Resolve(ctx, b.Addr())
		return err
	})
	require.NoError(t, b.SetPortPublic(ports.PortData, true))
	id, err := a.Send(ctx, b.Addr(), inbox.KindText, []byte("inside the swarm"))
	require.NoError(t, err)
	msg, err := b.Inbox().Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, a.PeerID(), msg.From)
	host := "swarm-b"
	_, err = b.SetProfile(&host, []string{"swarmtag"})
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error {
		cs, err := a.Find(ctx, host, "")
		if err == nil && len(cs) == 0 {
			return errors.New("not found yet")
		}
		return err
	})
	got := make(chan gossip.Event, 1)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	subDone := make(chan error, 1)
	go func() {
		subDone <- b.Subscribe(sctx, "team", 1, func(e gossip.Event) error { got <- e; return nil })
	}()
	eventually(t, 30*time.Second, func() error {
		if _, err := a.Publish(ctx, "team", []byte("hello swarm")); err != nil {
			return err
		}
		select {
		case e := <-got:
			if string(e.Data) != "hello swarm" {
				return fmt.Errorf("got %q", e.Data)
			}
			return nil
		case <-time.After(500 * time.Millisecond):
			return errors.New("no event yet")
		}
	})
	require.NoError(t, <-subDone)

	// Across the boundary, both ways: nothing resolves, connects, is found
	// or arrives on a topic. Every failure is a clean error, quickly.
	p := public[2]
	_, err = p.SetProfile(&host, []string{"swarmtag"}) // same name on the public side
	require.NoError(t, err)
	for _, pair := range [][2]*Node{{p, b}, {b, p}} {
		from, to := pair[0], pair[1]
		rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
		_, err := from.Resolve(rctx, to.Addr())
		rcancel()
		require.Error(t, err, "%s resolved a node of the other network", from.cfg.Network())
		err = from.host.Connect(ctx, peer.AddrInfo{ID: to.PeerID(), Addrs: to.host.Addrs()})
		require.Error(t, err, "a dial across the boundary must fail at the handshake")
		require.Empty(t, from.host.Network().ConnsToPeer(to.PeerID()))
		protos, _ := from.host.Peerstore().GetProtocols(to.PeerID())
		require.Empty(t, protos, "a failed handshake reveals no protocols")
	}
	cs, err := p.Find(ctx, host, "")
	if err == nil {
		for _, c := range cs {
			require.NotEqual(t, b.PeerID(), c.PeerID, "the public mesh found a swarm member")
		}
	}
	for _, n := range public {
		for _, m := range swarm {
			require.Empty(t, n.host.Network().ConnsToPeer(m.PeerID()))
		}
	}
	pubHost := "public-only"
	_, err = public[0].SetProfile(&pubHost, nil)
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error { // the public side finds its own
		cs, err := public[1].Find(ctx, pubHost, "")
		if err == nil && len(cs) == 0 {
			return errors.New("not found yet")
		}
		return err
	})
	cs, err = b.Find(ctx, pubHost, "")
	require.True(t, err != nil || len(cs) == 0, "the swarm found a public node: %v", cs)

	// Events, both ways.
	swarmGot := make(chan gossip.Event, 1)
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
	defer wcancel()
	go func() {
		_ = b.Subscribe(wctx, "team", 1, func(e gossip.Event) error { swarmGot <- e; return nil })
	}()
	_, _ = public[0].Publish(ctx, "team", []byte("public only"))
	<-wctx.Done()
	require.Empty(t, swarmGot, "a public event reached the swarm")
	pubGot := make(chan gossip.Event, 1)
	pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
	defer pcancel()
	go func() {
		_ = public[1].Subscribe(pctx, "team", 1, func(e gossip.Event) error { pubGot <- e; return nil })
	}()
	_, _ = a.Publish(ctx, "team", []byte("swarm only"))
	<-pctx.Done()
	require.Empty(t, pubGot, "a swarm event reached the public mesh")

	// Another key: cannot enter, learns nothing.
	k2 := newSwarmKey(t)
	cfg := swarmConfig(k2)()
	cfg.Bootstrap = swarm[0].JoinAddrs()
	cfg.BootstrapTimeout = 3 * time.Second
	intruder, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, intruder.Start(ctx))
	defer intruder.Close()
	require.Empty(t, intruder.host.Network().Peers(), "the wrong key connects to nobody")
	for _, m := range swarm {
		protos, _ := intruder.host.Peerstore().GetProtocols(m.PeerID())
		require.Empty(t, protos)
	}
	require.Zero(t, intruder.dht.RoutingTableSize())
	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	_, err = intruder.Resolve(rctx, b.Addr())
	require.Error(t, err)
	require.NoError(t, intruder.Close())
}

// TestSwarmConfigChecks: a swarm refuses QUIC listen addresses and a DHT
// prefix other than its own, with errors that say so; defaults are
// derived from the key.
func TestSwarmConfigChecks(t *testing.T) {
	k := newSwarmKey(t)
	cfg := TestnetConfig()
	cfg.SwarmKey = k
	cfg.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"}
	_, err := New(cfg)
	require.ErrorContains(t, err, "TCP only")

	cfg = TestnetConfig()
	cfg.SwarmKey = k
	cfg.ProtocolPrefix = "/pilot"
	_, err = New(cfg)
	require.ErrorContains(t, err, k.ProtocolPrefix())

	cfg = DaemonConfig(t.TempDir())
	cfg.SwarmKey = k
	cfg.applyDefaults()
	require.NoError(t, checkSwarm(cfg))
	for _, a := range cfg.ListenAddrs {
		require.False(t, isQUIC(a), a)
	}
	require.Equal(t, k.ProtocolPrefix(), cfg.ProtocolPrefix)
	require.True(t, strings.HasSuffix(cfg.MDNSService, k.Namespace()))
	require.Contains(t, cfg.topicPrefix(), k.Namespace())
	require.NotContains(t, fmt.Sprint(cfg.Network()), fmt.Sprintf("%x", k.Bytes()))
}

// TestHomeBelongsToOneNetwork: a home folder used in one network refuses
// to start in another, so its records, pins and trust never cross over.
func TestHomeBelongsToOneNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nodes")
	}
	ctx := context.Background()
	home := t.TempDir()
	start := func(k *swarmkey.Key) error {
		cfg := TestnetConfig()
		cfg.InMemory, cfg.Home, cfg.SwarmKey = false, home, k
		n, err := New(cfg)
		if err != nil {
			return err
		}
		err = n.Start(ctx)
		require.NoError(t, n.Close())
		return err
	}
	require.NoError(t, start(nil))
	k := newSwarmKey(t)
	err := start(k)
	require.ErrorIs(t, err, ErrOtherNetwork)
	require.ErrorContains(t, err, "public mesh")
	require.NoError(t, start(nil), "the public mesh still opens it")
}
