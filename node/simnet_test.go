package node

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/p2p/transport/quicreuse"
	"github.com/marcopolo/simnet"
	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/pilot-agents/pilot/node/ports"
)

// The relay -> direct upgrade on go-libp2p's simulated network (simnet):
// QUIC over in-process packet links, no root, no kernel NAT. The router is
// simnet's SimpleFirewallRouter: a node that is not public accepts packets
// only from addresses it has sent to - the behaviour of a port-restricted
// cone NAT that hole punching defeats. The addresses look public to
// go-libp2p (1.2.0.0/16, 2.2.0.0/16), so its hole-punch service runs,
// which it never does on loopback. The kernel-NAT version of these checks
// is the NAT lab (testnet/natlab).

// simSourceIP answers quicreuse's "which local IP reaches this
// destination" with the one address the simulated host has.
type simSourceIP struct{ ip atomic.Pointer[net.IP] }

func (s *simSourceIP) PreferredSourceIPForDestination(*net.UDPAddr) (net.IP, error) {
	return *s.ip.Load(), nil
}

// simRouter is what onSimnet needs of a router: simnet's
// SimpleFirewallRouter, or a test's wrapper around it.
type simRouter interface {
	simnet.Router
	SetAddrPubliclyReachable(net.Addr)
}

// onSimnet puts a node's QUIC listeners on router instead of UDP sockets;
// public nodes accept packets from anyone, others only from addresses they
// have sent to.
func onSimnet(router simRouter, public bool) libp2p.Option {
	src := &simSourceIP{}
	// A conn manager passed in this way is not closed with the host (its
	// gc goroutine would outlive the test), so a stop hook closes it.
	newCM := func(l fx.Lifecycle, reset quic.StatelessResetKey, token quic.TokenGeneratorKey, opts ...quicreuse.Option) (*quicreuse.ConnManager, error) {
		cm, err := quicreuse.NewConnManager(reset, token, opts...)
		if err != nil {
			return nil, err
		}
		l.Append(fx.StopHook(cm.Close))
		return cm, nil
	}
	return libp2p.QUICReuse(newCM,
		quicreuse.OverrideSourceIPSelector(func() (quicreuse.SourceIPSelector, error) { return src, nil }),
		quicreuse.OverrideListenUDP(func(_ string, addr *net.UDPAddr) (net.PacketConn, error) {
			src.ip.Store(&addr.IP)
			if public {
				router.SetAddrPubliclyReachable(addr)
			}
			c := simnet.NewSimConn(addr)
			c.SetUpPacketReceiver(router)
			router.AddNode(addr, c)
			return c, nil
		}))
}

// simTrio starts a public anchor and two firewalled private nodes on one
// simulated network, and waits until each private node holds a relay
// reservation and can resolve the other.
func simTrio(t *testing.T, tweak func(*Config)) (anchor, b, c *Node) {
	t.Helper()
	ctx := context.Background()
	router := &simnet.SimpleFirewallRouter{}
	start := func(cfg Config) *Node {
		n, err := New(cfg)
		require.NoError(t, err)
		require.NoError(t, n.Start(ctx))
		t.Cleanup(func() { n.Close() })
		return n
	}
	acfg := TestnetConfig()
	acfg.Anchor = true
	acfg.ListenAddrs = []string{"/ip4/1.2.0.1/udp/8000/quic-v1"}
	acfg.hostOptions = []libp2p.Option{onSimnet(router, true)}
	anchor = start(acfg)
	private := func(ip string) *Node {
		cfg := TestnetConfig()
		cfg.Public, cfg.DHTMode = false, ""
		cfg.ListenAddrs = []string{"/ip4/" + ip + "/udp/8000/quic-v1"}
		cfg.Bootstrap = anchor.JoinAddrs()
		cfg.hostOptions = []libp2p.Option{onSimnet(router, false)}
		if tweak != nil {
			tweak(&cfg)
		}
		return start(cfg)
	}
	b, c = private("2.2.0.1"), private("2.2.0.2")
	for _, pair := range [][2]*Node{{b, c}, {c, b}} {
		from, to := pair[0], pair[1]
		eventually(t, 30*time.Second, func() error {
			if len(to.RelayReservations()) == 0 {
				return errors.New("no reservation yet")
			}
			res, err := from.Resolve(ctx, to.Addr())
			if err == nil && len(res.Record.Addrs) == 0 {
				return errors.New("record without relay addresses yet")
			}
			return err
		})
	}
	return anchor, b, c
}

// TestSimnetRelayThenDirect: between untrusted private nodes the session
// runs on the relay and stays there (the hole-punch filter refuses, though
// the simulated firewalls would let a punch through); once both trust each
// other, goDirect's punch adds a direct connection, new streams take it,
// and DialBulk uses it.
func TestSimnetRelayThenDirect(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	anchor, b, c := simTrio(t, nil)
	defer closeAll(t, anchor, b, c) // and checks that each Close succeeds
	bt, ct := &fakeTrust{}, &fakeTrust{}
	b.trust, c.trust = bt, ct
	require.NoError(t, b.SetPortPublic(ports.PortEcho, true))

	out, _, err := c.Echo(ctx, b.Addr(), "over the relay")
	require.NoError(t, err)
	require.Equal(t, "over the relay", out)
	st, err := c.Ping(ctx, b.Addr(), 1)
	require.NoError(t, err)
	require.True(t, st.Relayed, "untrusted private peers meet on the relay")
	require.False(t, c.WaitDirect(ctx, b.PeerID(), 2*time.Second), "no hole punch between untrusted peers")
	require.False(t, b.hasDirectConn(c.PeerID()))

	bt.add(c.PeerID())
	ct.add(b.PeerID())
	t0 := time.Now()
	c.upgradeAsync(b.PeerID())
	b.upgradeAsync(c.PeerID())
	require.True(t, c.WaitDirect(ctx, b.PeerID(), 20*time.Second), "trusted peers behind cone-like firewalls go direct")
	t.Logf("relay -> direct in %s", time.Since(t0).Round(time.Millisecond))
	for _, conn := range c.host.Network().ConnsToPeer(b.PeerID()) {
		if !isRelayed(conn) {
			require.Contains(t, conn.RemoteMultiaddr().String(), "/ip4/2.2.0.1/udp/8000/quic-v1", "the direct path is B's own address")
		}
	}

	out, _, err = c.Echo(ctx, b.Addr(), "direct now")
	require.NoError(t, err)
	require.Equal(t, "direct now", out)
	st, err = c.Ping(ctx, b.Addr(), 1)
	require.NoError(t, err)
	require.False(t, st.Relayed, "new streams prefer the direct connection")
	bulk, err := c.DialBulk(ctx, b.Addr(), ports.PortEcho)
	require.NoError(t, err)
	require.False(t, bulk.Relayed(), "bulk data takes the direct path")
	require.NoError(t, bulk.Close())
}

// TestSimnetBulkWaitsThenRelays: a trusted peer that cannot be reached
// directly (its firewall admits nobody and it never punches back, because
// it does not trust the dialer) gets bulk data over the relay, never after
// go-libp2p's 60 s default: after DirectWait when that is short, and when
// the upgrade attempt gives up when DirectWait is long.
func TestSimnetBulkWaitsThenRelays(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	for _, tc := range []struct {
		name string
		wait time.Duration
	}{
		{"bounded by DirectWait", time.Second},
		{"bounded by the failed attempt", time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkLeaks(t)
			ctx := context.Background()
			anchor, b, c := simTrio(t, func(cfg *Config) { cfg.DirectWait = tc.wait })
			defer closeAll(t, anchor, b, c) // and checks that each Close succeeds
			bt, ct := &fakeTrust{}, &fakeTrust{}
			b.trust, c.trust = bt, ct
			require.NoError(t, b.SetPortPublic(ports.PortEcho, true))
			ct.add(b.PeerID()) // one-sided: B does not trust C

			// Half of go-libp2p's default wait: DialBulk fails if it waits that.
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			bulk, err := c.DialBulk(dctx, b.Addr(), ports.PortEcho)
			require.NoError(t, err, "a bounded wait, never the 60 s default")
			require.True(t, bulk.Relayed(), "no direct path exists, so the relay carries it")
			require.NoError(t, bulk.Close())
			require.False(t, b.hasDirectConn(c.PeerID()), "B never punched for an untrusted peer")
		})
	}
}

func closeAll(t *testing.T, nodes ...*Node) {
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}

// TestSimnetHolePunch: only one side starts the upgrade, so its plain
// dial meets the other's closed firewall and fails. After punchAfter it
// hands over to DCUtR: it replaces the idle relayed connection, the peer
// receives the new one and punches - which works only because both
// hole-punch filters now pass the trusted peer's addresses.
func TestSimnetHolePunch(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	anchor, b, c := simTrio(t, nil)
	defer closeAll(t, anchor, b, c) // and checks that each Close succeeds
	bt, ct := &fakeTrust{}, &fakeTrust{}
	b.trust, c.trust = bt, ct
	lo, hi := b, c // repunch is the smaller peer ID's move
	if hi.PeerID() < lo.PeerID() {
		lo, hi = hi, lo
	}
	_, err := lo.Connect(ctx, hi.Addr())
	require.NoError(t, err)
	bt.add(c.PeerID())
	ct.add(b.PeerID())

	lo.goDirect(ctx, hi.PeerID())
	require.True(t, lo.hasDirectConn(hi.PeerID()), "DCUtR opened a direct connection")
	require.True(t, hi.hasDirectConn(lo.PeerID()))
}
