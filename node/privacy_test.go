package node

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/node/ports"
)

// fakeTrust trusts a fixed set of peers; the real handshake lives in
// node/trust.
type fakeTrust struct {
	mu sync.Mutex
	ok map[peer.ID]bool
}

func (f *fakeTrust) IsTrusted(p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ok[p]
}

func (f *fakeTrust) Trusted() []peer.ID {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []peer.ID
	for p, ok := range f.ok {
		if ok {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeTrust) add(p peer.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ok == nil {
		f.ok = map[peer.ID]bool{}
	}
	f.ok[p] = true
}

// startPrivate starts a private-by-default node bootstrapped from anchor,
// closed at cleanup.
func startPrivate(t *testing.T, anchor *Node) *Node {
	t.Helper()
	cfg := TestnetConfig()
	cfg.Public, cfg.DHTMode = false, ""
	cfg.Bootstrap = anchor.JoinAddrs()
	n, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, n.Start(context.Background()))
	t.Cleanup(func() { n.Close() })
	return n
}

// privateTrio starts an anchor and two private nodes bootstrapped from it.
func privateTrio(t *testing.T) (anchor, b, c *Node) {
	t.Helper()
	ctx := context.Background()
	acfg := TestnetConfig()
	acfg.Anchor = true
	var err error
	anchor, err = New(acfg)
	require.NoError(t, err)
	require.NoError(t, anchor.Start(ctx))
	t.Cleanup(func() { anchor.Close() })
	b, c = startPrivate(t, anchor), startPrivate(t, anchor)
	for _, n := range []*Node{b, c} {
		eventually(t, 30*time.Second, func() error {
			if len(n.host.Addrs()) == 0 {
				return errString("no relay reservation yet")
			}
			return nil
		})
	}
	// Each can find the other through the DHT, with a relay address.
	for _, pair := range [][2]*Node{{b, c}, {c, b}} {
		eventually(t, 30*time.Second, func() error {
			res, err := pair[0].Resolve(ctx, pair[1].Addr())
			if err != nil {
				return err
			}
			if len(res.Record.Addrs) == 0 {
				return errString("record without relay addresses yet")
			}
			return nil
		})
	}
	return anchor, b, c
}

type errString string

func (e errString) Error() string { return string(e) }

func nonRelay(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range addrs {
		if !isCircuit(a) {
			out = append(out, a)
		}
	}
	return out
}

func TestPrivateNodeRevealsDirectAddrsOnlyToTrustedPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	anchor, b, c := privateTrio(t)
	ctx := context.Background()
	bTrust := &fakeTrust{}
	b.trust = bTrust

	// Everything b publishes is a relay address.
	require.NotEmpty(t, b.host.Addrs())
	require.Empty(t, nonRelay(b.host.Addrs()), "published addrs")
	require.NotEmpty(t, b.JoinAddrs(), "the operator still sees the direct addrs")

	// c (untrusted) resolves b through the DHT and connects: only relay
	// addresses in the record, in c's peerstore (identify), and a relayed
	// connection.
	var rec []ma.Multiaddr
	eventually(t, 30*time.Second, func() error {
		res, err := c.Resolve(ctx, b.Addr())
		if err != nil {
			return err
		}
		if len(res.Record.Addrs) == 0 {
			return errString("record without addresses yet")
		}
		rec = res.Record.Addrs
		return nil
	})
	require.Empty(t, nonRelay(rec), "DHT record")
	_, err := c.Connect(ctx, b.Addr())
	require.NoError(t, err)
	require.False(t, c.hasDirectConn(b.PeerID()), "untrusted peers meet on the relay")
	eventually(t, 10*time.Second, func() error {
		if _, err := c.host.Peerstore().SupportsProtocols(b.PeerID(), addrsProtocol); err != nil {
			return err
		}
		return nil
	})
	require.Empty(t, nonRelay(c.host.Peerstore().Addrs(b.PeerID())), "c's peerstore (identify)")
	got, err := c.fetchDirectAddrs(ctx, b.PeerID())
	require.NoError(t, err)
	require.Empty(t, got, "the addrs protocol tells untrusted peers nothing")

	// Provider records (hostname) carry only relay addresses too.
	_, err = b.SetProfile(ptr("bee"), nil)
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error {
		provs, err := c.DHT().Kad().FindProviders(ctx, dht.NameCID("bee"))
		if err != nil {
			return err
		}
		for _, p := range provs {
			if p.ID == b.PeerID() {
				if nr := nonRelay(p.Addrs); len(nr) > 0 {
					t.Fatalf("provider record leaks %v", nr)
				}
				return nil
			}
		}
		return errString("b's provider record not found yet")
	})
	found, err := c.Find(ctx, "bee", "")
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, b.PeerID(), found[0].PeerID)
	require.Empty(t, nonRelay(c.host.Peerstore().Addrs(b.PeerID())), "c's peerstore after find")

	// Ports other than public ones are closed to c.
	_, _, err = c.Echo(ctx, b.Addr(), "hi")
	require.ErrorIs(t, err, ports.ErrTrustRequired)
	require.NoError(t, b.SetPortPublic(ports.PortEcho, true))
	out, _, err := c.Echo(ctx, b.Addr(), "hi")
	require.NoError(t, err)
	require.Equal(t, "hi", out)
	require.NoError(t, b.SetPortPublic(ports.PortEcho, false))

	// Once b trusts c, c learns b's direct addresses and goes direct.
	bTrust.add(c.PeerID())
	got, err = c.fetchDirectAddrs(ctx, b.PeerID())
	require.NoError(t, err)
	require.NotEmpty(t, got)
	c.goDirect(ctx, b.PeerID())
	_ = anchor
	c.trust = &fakeTrust{ok: map[peer.ID]bool{b.PeerID(): true}}
	c.goDirect(ctx, b.PeerID())
	require.True(t, c.hasDirectConn(b.PeerID()), "trusted peers go direct")
	out, _, err = c.Echo(ctx, b.Addr(), "direct")
	require.NoError(t, err)
	require.Equal(t, "direct", out)

	for _, n := range []*Node{c, b, anchor} {
		require.NoError(t, n.Close())
	}
}

func ptr[T any](v T) *T { return &v }
