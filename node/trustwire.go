package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/trust"
)

// startTrust runs the trust handshake. It dials peers it is not connected
// to by resolving their address in the DHT, and turns its events into
// local events; a new trust relationship also tries a direct path.
func (n *Node) startTrust(ctx context.Context) error {
	m, err := trust.New(trust.Config{
		Host: n.host,
		Key:  n.priv,
		DB:   n.db,
		Dial: n.connectPeer,
		OnEvent: func(e trust.Event) {
			detail := map[string]string{"direction": e.Direction}
			if e.Message != "" {
				detail["message"] = e.Message
			}
			n.metrics.trustEvent(e.Kind)
			n.events.publish(LocalEvent{Kind: "trust_" + e.Kind, Peer: e.Peer, At: e.At, Detail: detail})
			if e.Kind == trust.EventTrusted {
				n.upgradeAsync(e.Peer) // in the background, once per peer, outcome remembered
			}
		},
	})
	if err != nil {
		return err
	}
	if err := m.Start(ctx); err != nil {
		return err
	}
	n.trustMgr = m
	n.trust = m
	return nil
}

// Trust is the node's trust manager (nil before Start).
func (n *Node) Trust() *trust.Manager { return n.trustMgr }

// peerOf resolves a to the peer behind it, for trust actions: the pinned
// peer if there is one, else whoever the DHT names (and pins).
func (n *Node) peerOf(ctx context.Context, a addressing.Addr) (peer.ID, error) {
	if a == n.addr {
		return "", ErrSelf
	}
	if p, ok, err := n.dht.Pins().Get(ctx, a); err == nil && ok {
		return p.PeerID, nil
	}
	res, err := n.resolve(ctx, a)
	if err != nil {
		return "", err
	}
	return res.Record.PeerID, nil
}

// Ranker for name and tag claimants: trusted peers first, then by Polo.
func (n *Node) Trusted(p peer.ID) bool { return n.trusted(p) }

// Score is a claimant's Polo in this node's view (0 before Start).
func (n *Node) Score(p peer.ID) float64 {
	if n.polo == nil {
		return 0
	}
	return float64(n.PoloScore(p).Polo)
}
