package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/ports"
)

// DefaultDirectWait is how long DialBulk waits for a direct path to a
// trusted peer reached only through a relay before it uses the relay
// (Config.DirectWait).
const DefaultDirectWait = 5 * time.Second

func (n *Node) directWait() time.Duration {
	if n.cfg.DirectWait > 0 {
		return n.cfg.DirectWait
	}
	return DefaultDirectWait
}

// DialBulk is DialAddr for bulk data: to a trusted peer reached only
// through a relay it first tries for a direct path (the addrs protocol and
// a direct dial; DCUtR runs by itself on the other side) and waits for one
// up to Config.DirectWait, then opens the stream on whatever path exists —
// the relay if no direct connection appeared. Untrusted peers never get a
// direct path to a private node, so for them it does not wait.
func (n *Node) DialBulk(ctx context.Context, a addressing.Addr, port uint16) (*ports.Conn, error) {
	return n.dial(ctx, a, port, true)
}

// WaitDirect waits until there is a direct (not relayed, not limited)
// connection to p, for at most max or until ctx ends, and reports whether
// there is one. It reacts to the host's connectedness events; it does not
// poll.
func (n *Node) WaitDirect(ctx context.Context, p peer.ID, max time.Duration) bool {
	return n.waitDirect(ctx, p, max, nil)
}

// waitDirect is WaitDirect that also gives up when stop closes (a nil
// stop never does).
func (n *Node) waitDirect(ctx context.Context, p peer.ID, max time.Duration, stop <-chan struct{}) bool {
	if n.running() != nil {
		return false
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.Name("pilot-wait-direct"))
	if err != nil {
		return n.hasDirectConn(p)
	}
	defer sub.Close()
	// Checked after subscribing, so a connection that appears in between
	// is seen either here or as an event.
	if n.hasDirectConn(p) {
		return true
	}
	t := time.NewTimer(max)
	defer t.Stop()
	if n.nat != nil {
		if hook := n.nat.waiting.Load(); hook != nil {
			(*hook)(p)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return n.hasDirectConn(p)
		case <-t.C:
			return n.hasDirectConn(p)
		case <-stop:
			return n.hasDirectConn(p)
		case <-n.closed:
			return false
		case e, ok := <-sub.Out():
			if !ok {
				return n.hasDirectConn(p)
			}
			if e.(event.EvtPeerConnectednessChanged).Peer == p && n.hasDirectConn(p) {
				return true
			}
		}
	}
}

// upgradeAsync starts goDirect to p in the background, once at a time per
// peer, bounded by goDirect's own timeouts and the node's lifetime. It
// does nothing for untrusted peers or when a direct connection exists. It
// returns a channel that closes when the attempt in flight (this one or an
// earlier one still running) ends, or nil when none runs.
func (n *Node) upgradeAsync(p peer.ID) <-chan struct{} {
	st := n.nat
	if st == nil || !n.trusted(p) || n.hasDirectConn(p) {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if done, ok := st.upgrading[p]; ok {
		return done
	}
	if st.stopped || st.ctx == nil || st.ctx.Err() != nil {
		return nil
	}
	done := make(chan struct{})
	st.upgrading[p] = done
	ctx := st.ctx
	n.wg.Add(1) // under st.mu: the NAT goroutine, still counted, sets stopped under it before the node's Wait can end
	go func() {
		defer n.wg.Done()
		n.goDirect(ctx, p)
		st.mu.Lock()
		if n.hasDirectConn(p) {
			delete(st.failed, p)
		} else {
			st.failed[p] = time.Now()
		}
		delete(st.upgrading, p)
		st.mu.Unlock()
		close(done)
	}()
	return done
}

// directFailTTL is how long a failed upgrade stops bulk transfers from
// waiting for a direct path to that peer.
const directFailTTL = 10 * time.Minute

// recentlyFailed reports whether an upgrade to p failed within
// directFailTTL.
func (n *Node) recentlyFailed(p peer.ID) bool {
	st := n.nat
	if st == nil {
		return false
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	at, ok := st.failed[p]
	return ok && time.Since(at) < directFailTTL
}

// preferDirect starts an upgrade to a trusted peer reached only through a
// relay and, for bulk data, waits for it: until a direct connection
// appears, the attempt ends without one, or DirectWait passes - unless the
// last attempt failed recently.
func (n *Node) preferDirect(ctx context.Context, p peer.ID, bulk bool) {
	if !n.trusted(p) || n.hasDirectConn(p) {
		return
	}
	done := n.upgradeAsync(p)
	if !bulk || done == nil || n.recentlyFailed(p) {
		return
	}
	n.waitDirect(ctx, p, n.directWait(), done)
}
