package node

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/node/logkey"
)

// parseBootstrap reads bootstrap multiaddrs; each must end in /p2p/<id>.
// Several addresses of one peer are merged.
func parseBootstrap(addrs []string) ([]peer.AddrInfo, error) {
	var mas []ma.Multiaddr
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("node: bootstrap address %q: %w", s, err)
		}
		if _, err := m.ValueForProtocol(ma.P_P2P); err != nil {
			return nil, fmt.Errorf("node: bootstrap address %q must end in /p2p/<peer ID>", s)
		}
		mas = append(mas, m)
	}
	infos, err := peer.AddrInfosFromP2pAddrs(mas...)
	if err != nil {
		return nil, fmt.Errorf("node: bootstrap addresses: %w", err)
	}
	return infos, nil
}

// ChooseDHTMode picks the DHT mode for cfg when cfg.DHTMode is empty:
//
//   - anchors and --public nodes: server;
//   - the first node of a mesh (no bootstrap): server, or nobody could
//     ever find a peer in its table;
//   - a private node that joins through bootstrap peers: client. It
//     publishes only relay addresses, and kad-dht does not run over
//     relayed (limited) connections, so as a server it would sit in
//     routing tables where nobody can query it and every lookup touching
//     it would stall until its timeout.
//
// So a mesh where every node is private still works: its first node
// serves the DHT. A LAN of nodes that should all serve passes --public.
func ChooseDHTMode(cfg Config, boot []peer.AddrInfo) (dht.Mode, error) {
	switch cfg.DHTMode {
	case "server":
		return dht.ModeServer, nil
	case "client":
		return dht.ModeClient, nil
	case "auto":
		return dht.ModeAuto, nil
	case "":
	default:
		return "", fmt.Errorf("node: DHT mode %q: want server, client or auto", cfg.DHTMode)
	}
	if cfg.Anchor || cfg.Public || len(boot) == 0 {
		return dht.ModeServer, nil
	}
	return dht.ModeClient, nil
}

// watchReachability follows AutoNAT's verdict for status.
func (n *Node) watchReachability(ctx context.Context) error {
	sub, err := n.host.EventBus().Subscribe(new(event.EvtLocalReachabilityChanged))
	if err != nil {
		return fmt.Errorf("node: subscribe to reachability: %w", err)
	}
	if n.cfg.Anchor {
		n.reachability.Store(reachabilityName(network.ReachabilityPublic))
	}
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
				r := e.(event.EvtLocalReachabilityChanged).Reachability
				n.reachability.Store(reachabilityName(r))
				log.Infow("reachability changed", logkey.Reachability, reachabilityName(r))
			}
		}
	}()
	return nil
}

func reachabilityName(r network.Reachability) string {
	switch r {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	default:
		return "unknown"
	}
}
