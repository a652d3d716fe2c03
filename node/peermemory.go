package node

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/node/peerbook"
)

// Peer memory (docs/mesh.md): a node remembers the DHT servers it meets
// (peerbook, in its store) and, after a restart, joins through them as
// well as through its bootstrap list - so the mesh re-forms even when
// every bootstrap node is gone for good.

const (
	// rejoinPeers is how many remembered peers a start dials.
	rejoinPeers = 8
	// rememberEvery bounds how often one peer is written to the store
	// (each write is synced to disk).
	rememberEvery = 10 * time.Minute
)

// rejoinCandidates returns remembered peers to join through, leaving out
// the bootstrap peers and the node itself.
func (n *Node) rejoinCandidates() []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, ai := range n.book.Candidates(rejoinPeers + len(n.bootstrap) + 1) {
		if ai.ID == n.id || slices.ContainsFunc(n.bootstrap, func(b peer.AddrInfo) bool { return b.ID == ai.ID }) {
			continue
		}
		if len(out) < rejoinPeers {
			out = append(out, ai)
		}
	}
	return out
}

// rememberPeers writes every DHT server identified over a direct
// connection into the peer book until ctx ends.
func (n *Node) rememberPeers(ctx context.Context) error {
	if n.cfg.InMemory {
		return nil // nothing outlives the process: nothing to rejoin from
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted), eventbus.Name("pilot-peer-memory"))
	if err != nil {
		return err
	}
	kad := protocol.ID(n.cfg.ProtocolPrefix + "/kad/1.0.0")
	var mu sync.Mutex
	written := make(map[peer.ID]time.Time)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				ev := e.(event.EvtPeerIdentificationCompleted)
				if ev.Conn == nil || isRelayed(ev.Conn) || !slices.Contains(ev.Protocols, kad) {
					continue
				}
				mu.Lock()
				last, seen := written[ev.Peer]
				if seen && time.Since(last) < rememberEvery {
					mu.Unlock()
					continue
				}
				written[ev.Peer] = time.Now()
				mu.Unlock()
				addrs := rejoinAddrs(ev.ListenAddrs)
				if len(addrs) == 0 {
					continue
				}
				err := n.book.Remember(peerbook.Entry{ID: ev.Peer, Addrs: addrs, LastSeen: time.Now(), Server: true})
				if err != nil {
					log.Debugw("remember peer", logkey.Peer, ev.Peer, logkey.Err, err)
				}
			}
		}
	}()
	return nil
}

// rejoinAddrs keeps the direct addresses a peer announced, bare (without
// /p2p/…), at most peerbook.MaxAddrs.
func rejoinAddrs(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range addrs {
		if isCircuit(a) || len(a.Bytes()) > peerbook.MaxAddrLen {
			continue
		}
		bare, _ := peer.SplitAddr(a)
		if bare == nil || slices.ContainsFunc(out, bare.Equal) {
			continue
		}
		out = append(out, bare)
		if len(out) == peerbook.MaxAddrs {
			break
		}
	}
	return out
}
