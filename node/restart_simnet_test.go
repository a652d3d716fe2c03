package node

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/marcopolo/simnet"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/ports"
)

// cutRouter is simnet's SimpleFirewallRouter with one link that can be
// cut: while cut, every packet between the two addresses is dropped
// silently, both ways.
type cutRouter struct {
	simnet.SimpleFirewallRouter
	cut atomic.Pointer[[2]string]
}

func (r *cutRouter) RecvPacket(p *simnet.Packet) {
	if c := r.cut.Load(); c != nil {
		from, to := p.From.String(), p.To.String()
		if (from == c[0] && to == c[1]) || (from == c[1] && to == c[0]) {
			return
		}
	}
	r.SimpleFirewallRouter.RecvPacket(p)
}

// TestSimnetPeerRestartedSilently: B dies without a word reaching A (as
// when a process is killed, or a NAT drops the last packets) and comes
// back with the same key on the same address. A still holds a connection
// to B's first incarnation, and it looks alive until A's next packet meets
// B's new incarnation, which answers with a QUIC stateless reset. A's next
// session to B - an echo, then a message - must not fail for it: the
// stream's open resolves again and connects to the new incarnation, and
// pilot_redials_total counts it.
func TestSimnetPeerRestartedSilently(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	router := &cutRouter{}
	start := func(cfg Config, key crypto.PrivKey) *Node {
		n, err := NewWithIdentity(cfg, key)
		require.NoError(t, err)
		require.NoError(t, n.Start(ctx))
		t.Cleanup(func() { n.Close() })
		return n
	}
	simCfg := func(ip string) Config {
		cfg := TestnetConfig()
		cfg.ListenAddrs = []string{"/ip4/" + ip + "/udp/8000/quic-v1"}
		cfg.hostOptions = []libp2p.Option{onSimnet(router, true)}
		return cfg
	}
	newKey := func() crypto.PrivKey {
		k, _, err := crypto.GenerateEd25519Key(nil)
		require.NoError(t, err)
		return k
	}

	xcfg := simCfg("1.2.0.1")
	xcfg.Anchor = true
	x := start(xcfg, newKey())
	// A is a DHT client, so B's new incarnation has no reason to dial it:
	// the only connection between them stays the dead one.
	acfg := simCfg("1.2.0.2")
	acfg.DHTMode, acfg.Bootstrap = "client", x.JoinAddrs()
	a := start(acfg, newKey())
	bKey := newKey()
	bcfg := simCfg("1.2.0.3")
	bcfg.Bootstrap = x.JoinAddrs()
	startB := func() *Node {
		b := start(bcfg, bKey)
		require.NoError(t, b.SetPortPublic(ports.PortEcho, true))
		require.NoError(t, b.SetPortPublic(ports.PortData, true))
		return b
	}
	b := startB()
	eventually(t, 30*time.Second, func() error {
		_, _, err := a.Echo(ctx, b.Addr(), "hello")
		return err
	})

	// Each round, B vanishes: nothing between A and B arrives any more,
	// its CONNECTION_CLOSE included. It comes back and publishes its
	// record, and A opens a session of another kind to it: every session
	// opens its stream through the ports mux, where the redial lives.
	sessions := []struct {
		name string
		run  func(*Node) error
	}{
		{"echo", func(b *Node) error {
			out, _, err := a.Echo(ctx, b.Addr(), "after the restart")
			if err == nil && out != "after the restart" {
				return errors.New("echo returned " + out)
			}
			return err
		}},
		{"send", func(b *Node) error {
			_, err := a.Send(ctx, b.Addr(), inbox.KindText, []byte("after the restart"))
			return err
		}},
	}
	for i, sess := range sessions {
		router.cut.Store(&[2]string{"1.2.0.2:8000", "1.2.0.3:8000"})
		require.NoError(t, b.Close())
		b = startB()
		eventually(t, 30*time.Second, func() error {
			at, seq, err := b.DHT().LastPublish()
			if err != nil || at.IsZero() {
				return errors.New("b's new incarnation has not published yet")
			}
			res, err := x.Resolve(ctx, b.Addr())
			if err != nil {
				return err
			}
			if res.Record.Seq < seq {
				return errors.New("the DHT still holds b's old record")
			}
			return nil
		})
		require.Len(t, a.host.Network().ConnsToPeer(b.PeerID()), 1, "%s: A holds the old incarnation's connection, and no other", sess.name)
		require.True(t, a.usableConn(b.PeerID()), "%s: and it looks alive", sess.name)
		router.cut.Store(nil)

		require.NoError(t, sess.run(b), "%s: the dead connection cost a redial, not the session", sess.name)
		var redials dto.Metric
		require.NoError(t, a.metrics.redials.Write(&redials))
		require.Equal(t, float64(i+1), redials.GetCounter().GetValue(), "%s: the session found the connection dead and dialled again", sess.name)
	}
	closeAll(t, b, a, x)
}
