package node

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/addressing"
)

// LocalEvent is something the node saw that an agent may want to react
// to: a trust request, a message in the inbox, a peer connecting...
type LocalEvent struct {
	Kind   string
	Peer   peer.ID
	At     time.Time
	Detail map[string]string
}

// Local event kinds besides the trust package's.
const (
	EventConnected    = "connected"
	EventDisconnected = "disconnected"
	EventMessage      = "message"
)

// eventHub fans local events out to subscribers. Publishing never blocks:
// a subscriber that does not keep up loses events, which are counted.
type eventHub struct {
	mu      sync.Mutex
	subs    map[chan LocalEvent]struct{}
	dropped atomic.Uint64
}

const eventBuffer = 256

func (h *eventHub) publish(e LocalEvent) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			h.dropped.Add(1)
		}
	}
}

func (h *eventHub) subscribe() (<-chan LocalEvent, func()) {
	ch := make(chan LocalEvent, eventBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = make(map[chan LocalEvent]struct{})
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs, ch)
		h.mu.Unlock()
	}
}

// Events streams local events to f until ctx ends or f fails. f runs on
// the caller's goroutine.
func (n *Node) Events(ctx context.Context, f func(LocalEvent) error) error {
	ch, cancel := n.events.subscribe()
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-n.closed:
			return ErrNotStarted
		case e := <-ch:
			if err := f(e); err != nil {
				return err
			}
		}
	}
}

// connNotifiee turns connections into local events. Its methods are called
// by the swarm and must not block.
type connNotifiee struct{ n *Node }

func (c connNotifiee) Connected(_ network.Network, conn network.Conn) {
	c.n.events.publish(LocalEvent{Kind: EventConnected, Peer: conn.RemotePeer(), Detail: connDetail(conn)})
}

func (c connNotifiee) Disconnected(_ network.Network, conn network.Conn) {
	c.n.events.publish(LocalEvent{Kind: EventDisconnected, Peer: conn.RemotePeer(), Detail: connDetail(conn)})
}

func (connNotifiee) Listen(network.Network, ma.Multiaddr)      {}
func (connNotifiee) ListenClose(network.Network, ma.Multiaddr) {}

func connDetail(c network.Conn) map[string]string {
	d := map[string]string{"path": pathName(isRelayed(c)), "direction": "outbound"}
	if c.Stat().Direction == network.DirInbound {
		d["direction"] = "inbound"
	}
	return d
}

// addrOfPeer is the Pilot address of p, or the zero address.
func addrOfPeer(p peer.ID) addressing.Addr {
	a, _ := addressing.FromPeerID(p)
	return a
}
