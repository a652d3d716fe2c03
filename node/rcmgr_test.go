package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

// TestLoadLimitsCoverPilotProtocols: every protocol a running node serves
// under its prefix has an explicit limit in rcmgr.go, except the DHT's
// (left to kad-dht and go-libp2p's default on purpose) and application
// ports; and the limits scale with ResourceMemory.
func TestLoadLimitsCoverPilotProtocols(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	checkLeaks(t)
	n := startMesh(t, 1)[0]
	limited := map[protocol.ID]bool{}
	for _, l := range pilotProtocolLimits(n.cfg.ProtocolPrefix) {
		limited[l.proto] = true
	}
	served := 0
	for _, p := range n.Host().Mux().Protocols() {
		if !strings.HasPrefix(string(p), n.cfg.ProtocolPrefix+"/") || strings.HasPrefix(string(p), n.cfg.ProtocolPrefix+"/kad/") {
			continue
		}
		served++
		require.True(t, limited[p], "%s is served without an explicit limit (node/rcmgr.go)", p)
	}
	require.GreaterOrEqual(t, served, 6, "the node serves Pilot's protocols")

	scaled := func(mem int64) rcmgr.PartialLimitConfig {
		limits := rcmgr.DefaultLimits
		cfg := TestnetConfig()
		cfg.applyDefaults()
		addPilotLimits(&cfg, &limits)
		return limits.Scale(mem, 1024).ToPartialLimitConfig()
	}
	echo := ports.ProtocolID(ports.PortEcho)
	small, daemon, anchor := scaled(128<<20), scaled(512<<20), scaled(2<<30)
	require.Equal(t, rcmgr.LimitVal(1024), small.Protocol[echo].StreamsInbound)
	require.Equal(t, rcmgr.LimitVal(1536), daemon.Protocol[echo].StreamsInbound)
	require.Equal(t, rcmgr.LimitVal(3072), anchor.Protocol[echo].StreamsInbound)
	require.Equal(t, rcmgr.LimitVal(32), anchor.ProtocolPeer[echo].StreamsInbound, "per peer does not scale")
	for _, c := range []rcmgr.PartialLimitConfig{small, daemon, anchor} {
		require.GreaterOrEqual(t, c.Transient.StreamsInbound, c.Protocol[echo].StreamsInbound,
			"a burst the echo limit allows fits in the transient scope while it negotiates")
		require.LessOrEqual(t, c.Protocol[echo].StreamsInbound, c.System.StreamsInbound)
	}
	require.NoError(t, n.Close())
}

// TestLoadLimitsPerPeer: the per-peer limit is really applied. A raw peer
// opens more echo streams than its 32 and holds them: 32 are served, the
// rest are refused by the victim's resource manager, and meanwhile an
// honest node is served.
func TestLoadLimitsPerPeer(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	nodes := startMesh(t, 2)
	victim, honest := nodes[0], nodes[1]
	require.NoError(t, victim.SetPortPublic(ports.PortEcho, true))
	echo := ports.ProtocolID(ports.PortEcho)
	var perPeer int
	for _, l := range pilotProtocolLimits(victim.cfg.ProtocolPrefix) {
		if l.proto == echo {
			perPeer = l.perPeer.StreamsInbound
		}
	}
	require.Equal(t, 32, perPeer)

	raw := newRawPeer(t, victim)
	var held []network.Stream
	refused := 0
	for range perPeer + 8 {
		s, status, err := rawPortStatus(raw, victim, echo)
		if err != nil {
			refused++
			continue
		}
		require.Equal(t, byte(0), status)
		held = append(held, s)
	}
	t.Logf("raw peer: %d echo streams served, %d refused; victim holds %d", len(held), refused, protocolStreams(victim, echo))
	require.Len(t, held, perPeer, "served up to the per-peer limit")
	require.Equal(t, 8, refused, "refused past it")
	require.Equal(t, perPeer, protocolStreams(victim, echo))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	eventually(t, 30*time.Second, func() error { _, err := honest.Resolve(ctx, victim.Addr()); return err })
	got, _, err := honest.Echo(ctx, victim.Addr(), "another peer is served")
	require.NoError(t, err)
	require.Equal(t, "another peer is served", got)

	for _, s := range held {
		s.Reset()
	}
	eventually(t, 10*time.Second, func() error {
		if n := protocolStreams(victim, echo); n != 0 {
			return fmt.Errorf("the victim still holds %d echo streams", n)
		}
		return nil
	})
	require.NoError(t, raw.Close())
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}
