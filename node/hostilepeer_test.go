package node

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"github.com/stretchr/testify/require"
)

// newRawPeer builds a bare libp2p host (the swarm settings of a testnet
// node: TCP on loopback, Noise, no relay) that speaks whatever the test
// writes, connects it to victim and returns it. It is closed at cleanup.
func newRawPeer(t *testing.T, victim *Node) host.Host {
	t.Helper()
	key, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Connect(ctx, peer.AddrInfo{ID: victim.PeerID(), Addrs: victim.Host().Addrs()}))
	return h
}

// rawStream opens a stream from h to victim on proto.
func rawStream(h host.Host, victim *Node, proto protocol.ID) (network.Stream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.NewStream(ctx, victim.PeerID(), proto)
}

// rawPortStatus opens a stream from h to one of victim's ports and reads
// the listener's status byte (0: accepted).
func rawPortStatus(h host.Host, victim *Node, proto protocol.ID) (network.Stream, byte, error) {
	s, err := rawStream(h, victim, proto)
	if err != nil {
		return nil, 0, err
	}
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		s.Reset()
		return nil, 0, fmt.Errorf("status of %s: %w", proto, err)
	}
	_ = s.SetReadDeadline(time.Time{})
	return s, b[0], nil
}

// protocolStreams is victim's resource manager count of inbound streams
// on proto, all peers together.
func protocolStreams(victim *Node, proto protocol.ID) int {
	n := 0
	_ = victim.Host().Network().ResourceManager().ViewProtocol(proto, func(s network.ProtocolScope) error {
		n = s.Stat().NumStreamsInbound
		return nil
	})
	return n
}
