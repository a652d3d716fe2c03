package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
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
	return n.dht.Resolve(ctx, a)
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
	if p, ok, err := n.dht.Pins().Get(ctx, a); err == nil && ok && n.isConnected(p.PeerID) {
		return p.PeerID, nil
	}
	res, err := n.dht.Resolve(ctx, a)
	if err != nil {
		return "", err
	}
	ai := res.Record.AddrInfo()
	if err := n.host.Connect(ctx, ai); err != nil {
		return "", fmt.Errorf("node: connect to %s (%s): %w: %w", a, ai.ID, ErrUnreachable, err)
	}
	return ai.ID, nil
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
	log.Warnw("pin removed", "addr", a, "peer", p.PeerID)
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
// ping protocol, one after the other.
func (n *Node) Ping(ctx context.Context, a addressing.Addr, count int) (PingStats, error) {
	if count < 1 {
		return PingStats{}, fmt.Errorf("node: ping count %d: want at least 1", count)
	}
	id, err := n.Connect(ctx, a)
	if err != nil {
		return PingStats{}, err
	}
	st := PingStats{Addr: a, PeerID: id}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := ping.Ping(pctx, n.host, id)
	var firstErr error
	for st.Sent < count {
		r, ok := <-results
		if !ok {
			break
		}
		st.Sent++
		if r.Error != nil {
			firstErr = r.Error
			break
		}
		st.RTTs = append(st.RTTs, r.RTT)
	}
	cancel()
	for range results { // let ping's goroutine finish
	}
	if len(st.RTTs) == 0 {
		if firstErr == nil {
			firstErr = ctx.Err()
		}
		return st, fmt.Errorf("node: ping %s: %w: %w", a, ErrUnreachable, firstErr)
	}
	var sum time.Duration
	st.Min, st.Max = st.RTTs[0], st.RTTs[0]
	for _, r := range st.RTTs {
		sum += r
		st.Min, st.Max = min(st.Min, r), max(st.Max, r)
	}
	st.Avg = sum / time.Duration(len(st.RTTs))
	if c := n.bestConn(id); c != nil {
		st.Relayed = isRelayed(c)
		st.Remote = c.RemoteMultiaddr()
	}
	return st, nil
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
