package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/node/logkey"
)

// ErrSelf is returned when an operation targets the node itself.
var ErrSelf = errors.New("that is this node's own address")

// ErrUnreachable wraps a failure to connect to a resolved peer.
var ErrUnreachable = errors.New("peer unreachable")

// ErrNotStarted is returned by operations on a node that is not running.
var ErrNotStarted = errors.New("node: not started")

func (n *Node) running() error {
	if !n.started.Load() || n.host == nil || n.dht == nil {
		return ErrNotStarted
	}
	select {
	case <-n.closed:
		return ErrNotStarted
	default:
		return nil
	}
}

// Resolve finds the peer behind a through the DHT (see dht.DHT.Resolve).
func (n *Node) Resolve(ctx context.Context, a addressing.Addr) (*dht.Resolution, error) {
	if err := n.running(); err != nil {
		return nil, err
	}
	return n.resolve(ctx, a)
}

// resolve is dht.Resolve, counted in pilot_resolves_total.
func (n *Node) resolve(ctx context.Context, a addressing.Addr) (*dht.Resolution, error) {
	res, err := n.dht.Resolve(ctx, a)
	n.metrics.resolved(err)
	return res, err
}

// Connect resolves a and opens a connection to its peer. A peer already
// connected whose pin matches is not looked up again.
func (n *Node) Connect(ctx context.Context, a addressing.Addr) (peer.ID, error) {
	if err := n.running(); err != nil {
		return "", err
	}
	if a == n.addr {
		return "", ErrSelf
	}
	if p, ok, err := n.dht.Pins().Get(ctx, a); err == nil && ok && n.usableConn(p.PeerID) {
		return p.PeerID, nil
	}
	res, err := n.resolve(ctx, a)
	if err != nil {
		return "", err
	}
	ai := res.Record.AddrInfo()
	// A relayed (limited) connection counts: streams go over it at once
	// rather than after a direct dial that behind a NAT only times out.
	if err := n.host.Connect(network.WithAllowLimitedConn(ctx, "pilot-connect"), ai); err != nil {
		return "", fmt.Errorf("node: connect to %s (%s): %w: %w", a, ai.ID, ErrUnreachable, err)
	}
	return ai.ID, nil
}

// connectPeer is Connect for a peer known by ID: it resolves the peer's
// address, so that a peer that moved is found at its new addresses.
func (n *Node) connectPeer(ctx context.Context, p peer.ID) error {
	a, err := addressing.FromPeerID(p)
	if err != nil {
		return err
	}
	id, err := n.Connect(ctx, a)
	if err != nil {
		return err
	}
	if id != p {
		return fmt.Errorf("node: %s resolves to %s, not %s", a, id, p)
	}
	return nil
}

// redial is the ports mux's way back to a peer whose last connection died
// under a new stream (ports.Mux.SetRedial): counted, then connectPeer.
func (n *Node) redial(ctx context.Context, p peer.ID) error {
	log.Debugw("connection to peer lost under a new stream; connecting again", logkey.Peer, p)
	n.metrics.redialled()
	return n.connectPeer(ctx, p)
}

// usableConn reports whether there is a connection to p, direct or
// relayed.
func (n *Node) usableConn(p peer.ID) bool {
	c := n.host.Network().Connectedness(p)
	return c == network.Connected || c == network.Limited
}

// Unpin removes the pin for a, so the next resolution pins whichever peer
// the DHT then names. It returns the peer that was pinned, if any.
func (n *Node) Unpin(ctx context.Context, a addressing.Addr) (peer.ID, bool, error) {
	if err := n.running(); err != nil {
		return "", false, err
	}
	p, ok, err := n.dht.Pins().Get(ctx, a)
	if err != nil || !ok {
		return "", false, err
	}
	if err := n.dht.Pins().Remove(ctx, a); err != nil {
		return "", false, err
	}
	log.Warnw("pin removed", logkey.Addr, a, logkey.Peer, p.PeerID)
	return p.PeerID, true, nil
}

// PingStats is the outcome of Ping.
type PingStats struct {
	Addr     addressing.Addr
	PeerID   peer.ID
	Relayed  bool
	Remote   ma.Multiaddr
	Sent     int
	RTTs     []time.Duration
	Min, Avg time.Duration
	Max      time.Duration
}

// Ping resolves a, connects, and measures count round trips over the libp2p
// ping protocol, one after the other, on one stream. Relayed and Remote
// describe the connection that stream actually used.
func (n *Node) Ping(ctx context.Context, a addressing.Addr, count int) (PingStats, error) {
	if count < 1 {
		return PingStats{}, fmt.Errorf("node: ping count %d: want at least 1", count)
	}
	id, err := n.Connect(ctx, a)
	if err != nil {
		return PingStats{}, err
	}
	st := PingStats{Addr: a, PeerID: id}
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "pilot-ping"), id, ping.ID)
	if err != nil {
		return st, fmt.Errorf("node: ping %s: %w: %w", a, ErrUnreachable, err)
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() }) // cancellation ends a pending read
	defer stop()
	st.Relayed = isRelayed(s.Conn())
	st.Remote = s.Conn().RemoteMultiaddr()
	var firstErr error
	for st.Sent < count {
		st.Sent++
		rtt, err := pingOnce(ctx, s)
		if err != nil {
			firstErr = err
			break
		}
		n.host.Peerstore().RecordLatency(id, rtt)
		st.RTTs = append(st.RTTs, rtt)
	}
	if firstErr != nil {
		s.Reset()
	}
	if len(st.RTTs) == 0 {
		return st, fmt.Errorf("node: ping %s: %w: %w", a, ErrUnreachable, firstErr)
	}
	var sum time.Duration
	st.Min, st.Max = st.RTTs[0], st.RTTs[0]
	for _, r := range st.RTTs {
		sum += r
		st.Min, st.Max = min(st.Min, r), max(st.Max, r)
	}
	st.Avg = sum / time.Duration(len(st.RTTs))
	return st, nil
}

// pingTimeout bounds one round trip of Ping.
const pingTimeout = 10 * time.Second

// pingOnce is one round of the libp2p ping protocol on s: 32 random bytes
// out, the same 32 back.
func pingOnce(ctx context.Context, s network.Stream) (time.Duration, error) {
	deadline := time.Now().Add(pingTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	_ = s.SetDeadline(deadline)
	out := make([]byte, ping.PingSize)
	if _, err := rand.Read(out); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := s.Write(out); err != nil {
		return 0, err
	}
	in := make([]byte, ping.PingSize)
	if _, err := io.ReadFull(s, in); err != nil {
		return 0, err
	}
	rtt := time.Since(start)
	if !bytes.Equal(in, out) {
		return 0, errors.New("ping: wrong answer")
	}
	return rtt, nil
}

// bestConn returns a direct connection to p if there is one, else any.
func (n *Node) bestConn(p peer.ID) network.Conn {
	conns := n.host.Network().ConnsToPeer(p)
	for _, c := range conns {
		if !isRelayed(c) {
			return c
		}
	}
	if len(conns) > 0 {
		return conns[0]
	}
	return nil
}

func isRelayed(c network.Conn) bool {
	if c.Stat().Limited {
		return true
	}
	_, err := c.RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// PeerInfo describes one connected peer.
type PeerInfo struct {
	Addr      addressing.Addr
	PeerID    peer.ID
	Remote    ma.Multiaddr
	Inbound   bool
	Relayed   bool
	Transport string
}

// Peers lists connected peers, one entry per peer (its best connection),
// sorted by address.
func (n *Node) Peers() []PeerInfo {
	if n.running() != nil {
		return nil
	}
	var out []PeerInfo
	for _, p := range n.host.Network().Peers() {
		c := n.bestConn(p)
		if c == nil {
			continue
		}
		a, _ := addressing.FromPeerID(p)
		out = append(out, PeerInfo{
			Addr:      a,
			PeerID:    p,
			Remote:    c.RemoteMultiaddr(),
			Inbound:   c.Stat().Direction == network.DirInbound,
			Relayed:   isRelayed(c),
			Transport: transportOf(c.RemoteMultiaddr()),
		})
	}
	slices.SortFunc(out, func(x, y PeerInfo) int { return strings.Compare(x.Addr.Hex(), y.Addr.Hex()) })
	return out
}

func transportOf(m ma.Multiaddr) string {
	var names []string
	for _, p := range m.Protocols() {
		switch p.Code {
		case ma.P_TCP, ma.P_QUIC_V1, ma.P_WS, ma.P_WSS, ma.P_WEBTRANSPORT, ma.P_CIRCUIT:
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, "+")
}
