// Package node is a Pilot node: its identity, libp2p host, Badger store,
// DHT, LAN discovery and local API, with one lifecycle (New, Start, Close,
// Wait). It is the library behind the `pilot` command; another Go program
// can embed a node directly:
//
//	n, err := node.New(node.DaemonConfig(""))
//	if err != nil { ... }
//	if err := n.Start(ctx); err != nil { ... }
//	defer n.Close()
//	rec, err := n.Resolve(ctx, addressing.MustParse("3f2a.91c0.7d14"))
package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/dht/badgerds"
	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/inbox"
	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/node/peerbook"
	"github.com/pilot-agents/pilot/node/ports"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/node/trust"
	"github.com/pilot-agents/pilot/node/tunnel"
)

// Node is one Pilot agent on the network. Its methods are safe for
// concurrent use once Start has returned.
type Node struct {
	cfg       Config
	priv      crypto.PrivKey
	addr      addressing.Addr
	id        peer.ID
	bootstrap []peer.AddrInfo
	rejoin    []peer.AddrInfo // remembered peers joined through at start (peermemory.go)
	dhtMode   dht.Mode
	book      *peerbook.Book

	started   atomic.Bool
	startedAt time.Time
	db        *badger.DB
	host      host.Host
	dht       *dht.DHT
	mdns      interface{ Close() error }
	api       *localapi.Server
	ports     *ports.Mux
	policy    *portPolicy
	trust     trustStore
	trustMgr  *trust.Manager
	gossip    *gossip.PubSub
	inbox     *inbox.Inbox
	tunnels   *tunnel.Manager
	events    eventHub

	topicRelays topicRelays

	polo      *poloState // attestations, sync and scores (polo.go)
	tasks     *task.Service
	nat       *natState    // NAT traversal state (nat.go), set by startNAT
	natKeeper *relayKeeper // the private node's relay reservations

	reachability atomic.Value // string
	metrics      *metrics     // Prometheus metrics (metrics.go)

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	closed    chan struct{}
}

// New checks cfg and loads (or creates) the node's identity. Nothing
// touches the network until Start.
func New(cfg Config) (*Node, error) {
	cfg.applyDefaults()
	boot, mode, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	var priv crypto.PrivKey
	if cfg.InMemory {
		priv, _, err = crypto.GenerateEd25519Key(nil)
		if err != nil {
			return nil, fmt.Errorf("node: generate identity: %w", err)
		}
	} else {
		if err := os.MkdirAll(cfg.Home, 0o700); err != nil {
			return nil, fmt.Errorf("node: home %s: %w", cfg.Home, err)
		}
		if priv, err = LoadOrCreateIdentity(cfg.Home); err != nil {
			return nil, err
		}
	}
	return newWithKey(cfg, priv, boot, mode)
}

// NewWithIdentity is New with a given key instead of the key file (for
// tests and programs that manage keys themselves).
func NewWithIdentity(cfg Config, priv crypto.PrivKey) (*Node, error) {
	cfg.applyDefaults()
	boot, mode, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	return newWithKey(cfg, priv, boot, mode)
}

// checkConfig validates what New can check without side effects, so a bad
// configuration never creates a key file.
func checkConfig(cfg Config) ([]peer.AddrInfo, dht.Mode, error) {
	if err := checkSwarm(cfg); err != nil {
		return nil, "", err
	}
	boot, err := parseBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, "", err
	}
	mode, err := ChooseDHTMode(cfg, boot)
	if err != nil {
		return nil, "", err
	}
	return boot, mode, nil
}

func newWithKey(cfg Config, priv crypto.PrivKey, boot []peer.AddrInfo, mode dht.Mode) (*Node, error) {
	if priv.Type() != crypto.Ed25519 {
		return nil, errors.New("node: identity must be an Ed25519 key")
	}
	a, err := addressing.FromPublicKey(priv.GetPublic())
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("node: peer ID: %w", err)
	}
	n := &Node{cfg: cfg, priv: priv, addr: a, id: id, bootstrap: boot, dhtMode: mode, closed: make(chan struct{})}
	n.reachability.Store("unknown")
	if n.metrics, err = newMetrics(cfg.Metrics); err != nil {
		return nil, err
	}
	return n, nil
}

// Start opens the store, starts the host, the DHT, mDNS and the local API,
// and connects to the bootstrap peers. It does not block on the network
// beyond BootstrapTimeout. On error everything started is stopped again.
func (n *Node) Start(ctx context.Context) (err error) {
	if !n.started.CompareAndSwap(false, true) {
		return errors.New("node: already started")
	}
	n.startedAt = time.Now()
	var runCtx context.Context
	runCtx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Close()
		}
	}()

	if n.db, err = openStore(n.cfg.Home, n.cfg.InMemory); err != nil {
		return err
	}
	if err := bindNetwork(n.db, n.cfg.Network()); err != nil {
		return err
	}
	n.book = peerbook.New(n.db, peerbook.Options{})
	n.rejoin = n.rejoinCandidates()
	if len(n.bootstrap) == 0 && len(n.rejoin) > 0 && n.cfg.DHTMode == "" {
		// Not the first node of a mesh after all: it has been in one.
		if n.dhtMode, err = ChooseDHTMode(n.cfg, n.rejoin); err != nil {
			return err
		}
	}
	keeper := newRelayKeeper(n.bootstrap)
	if n.cfg.relayDiscoverEvery > 0 {
		keeper.discoverEvery = n.cfg.relayDiscoverEvery
	}
	if n.host, err = newHost(&n.cfg, n.priv, keeper); err != nil {
		return err
	}
	if err := n.startNAT(runCtx, keeper); err != nil {
		return err
	}
	if n.cfg.private() {
		keeper.h = n.host
		keeper.run(runCtx, &n.wg)
	}
	if n.policy, err = newPortPolicy(n.db, n.trusted); err != nil {
		return err
	}
	// The task service admits peers itself: submissions through its gate
	// (trust, or Polo), updates and cancels only from the other party of
	// a task - which is how a worker's result reaches a requester that
	// does not trust it.
	n.policy.gated = map[uint16]bool{ports.PortTasks: true}
	n.ports = ports.New(meteredHost{n.host, n.metrics}, n.policy)
	n.ports.SetRedial(n.redial)
	n.tunnels = tunnel.NewManager()
	n.host.SetStreamHandler(addrsProtocol, n.serveAddrs)
	n.host.SetStreamHandler(n.timeProtocol(), n.serveTime) // the doctor's clock check (doctor_clock.go)
	n.host.Network().Notify(connNotifiee{n})
	if err := n.startTrust(runCtx); err != nil {
		return err
	}
	n.nat.bindTrust(n.trusted) // hole punching and the dial gater see trust from here on
	if err := n.openPolo(); err != nil {
		return err
	}
	if n.gossip, err = gossip.New(runCtx, n.host, gossip.Config{TopicPrefix: n.cfg.topicPrefix(), AppScore: n.gossipScore}); err != nil {
		return err
	}
	if err := n.startPolo(runCtx); err != nil {
		return err
	}
	n.host.SetStreamHandler(topicRelayProtocol, n.serveTopicRelay)
	if err := n.startInbox(); err != nil {
		return err
	}
	if err := n.startTasks(runCtx); err != nil {
		return err
	}
	echo, err := n.ports.Listen(ports.PortEcho)
	if err != nil {
		return err
	}
	n.wg.Add(1)
	go n.serveEcho(echo)
	if err := n.watchReachability(runCtx); err != nil {
		return err
	}
	n.dht, err = dht.New(n.host, n.priv, dht.Config{
		ProtocolPrefix:    n.cfg.ProtocolPrefix,
		Mode:              n.dhtMode,
		Bootstrap:         append(slices.Clone(n.bootstrap), n.rejoin...),
		Datastore:         badgerds.New(n.db, "/dht"),
		RepublishInterval: n.cfg.RepublishInterval,
		ResolveTimeout:    n.cfg.ResolveTimeout,
		ResolveQuorum:     n.cfg.ResolveQuorum,
	})
	if err != nil {
		return err
	}
	if err := n.loadProfile(); err != nil {
		return err
	}
	if err := n.rememberPeers(runCtx); err != nil {
		return err
	}
	n.connectBootstrap(ctx)
	if err := n.dht.Start(runCtx); err != nil {
		return err
	}
	n.catchUp(runCtx)
	// The relay keeper's second source of relays: the node's closest DHT
	// peers (relaydiscover.go).
	keeper.useClosest(func(ctx context.Context) []peer.ID {
		ids, err := n.dht.Kad().GetClosestPeers(ctx, string(n.id))
		if err != nil {
			log.Debugw("closest DHT peers for relays", logkey.Err, err)
		}
		return ids
	})
	if n.cfg.MDNS {
		// A machine with no multicast-capable interface (a container, a
		// namespace with only loopback) cannot do mDNS; the node is still
		// useful through --bootstrap, so this is a warning, not a failure.
		if svc, err := startMDNS(runCtx, n.host, n.cfg.MDNSService, &n.wg); err != nil {
			log.Warnw("LAN discovery (mDNS) unavailable; join others with --bootstrap", logkey.Err, err)
		} else {
			n.mdns = svc
		}
	}
	n.wg.Add(1)
	go n.gcStore(runCtx)
	if n.cfg.APISocket != "" {
		if n.api, err = localapi.Listen(n.cfg.APISocket, apiBackend{n: n}); err != nil {
			return err
		}
	}
	log.Infow("node started", logkey.Addr, n.addr, logkey.Peer, n.id, logkey.DHTMode, n.dhtMode, logkey.Maddr, n.host.Addrs())
	return nil
}

// Close stops everything Start started, in reverse order, and waits for
// every goroutine. It is idempotent and safe to call on a node that never
// started.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.api != nil {
			errs = append(errs, n.api.Close())
		}
		if n.cancel != nil {
			n.cancel()
		}
		if n.mdns != nil {
			errs = append(errs, n.mdns.Close())
		}
		if n.tunnels != nil {
			errs = append(errs, n.tunnels.CloseAll())
		}
		if n.tasks != nil {
			errs = append(errs, n.tasks.Close())
		}
		if n.ports != nil {
			errs = append(errs, n.ports.Close())
		}
		if n.inbox != nil {
			errs = append(errs, n.inbox.Close())
		}
		if n.trustMgr != nil {
			errs = append(errs, n.trustMgr.Close())
		}
		n.closePolo()
		if n.gossip != nil {
			n.stopTopicRelays()
			errs = append(errs, n.gossip.Close())
		}
		if n.dht != nil {
			errs = append(errs, n.dht.Close())
		}
		if n.host != nil {
			errs = append(errs, n.host.Close())
		}
		n.wg.Wait()
		if n.db != nil {
			errs = append(errs, n.db.Close())
		}
		n.closeErr = errors.Join(errs...)
		close(n.closed)
	})
	return n.closeErr
}

// Wait blocks until the node is closed and returns Close's error.
func (n *Node) Wait() error {
	<-n.closed
	return n.closeErr
}

// Done is closed when the node has closed.
func (n *Node) Done() <-chan struct{} { return n.closed }

// Addr is the node's Pilot address.
func (n *Node) Addr() addressing.Addr { return n.addr }

// PeerID is the node's libp2p peer ID.
func (n *Node) PeerID() peer.ID { return n.id }

// Host is the libp2p host (nil before Start).
func (n *Node) Host() host.Host { return n.host }

// DHT is the node's DHT (nil before Start).
func (n *Node) DHT() *dht.DHT { return n.dht }

// Store is the node's Badger database (nil before Start).
func (n *Node) Store() *badger.DB { return n.db }

// Config returns the configuration in effect, defaults applied.
func (n *Node) Config() Config { return n.cfg }

// FirstNode reports whether the node started without bootstrap peers: the
// first node of a new mesh.
func (n *Node) FirstNode() bool { return len(n.bootstrap) == 0 && len(n.rejoin) == 0 }

// Reachability is what AutoNAT says of the node: "public", "private" or
// "unknown".
func (n *Node) Reachability() string { return n.reachability.Load().(string) }

// JoinAddrs are the node's direct listen multiaddrs with /p2p/<peer ID>:
// what others pass to --bootstrap. A private node does not publish them;
// showing them to its own operator, who decides whom to give them, is fine.
func (n *Node) JoinAddrs() []string {
	if n.host == nil {
		return nil
	}
	info := peer.AddrInfo{ID: n.id, Addrs: directAddrs(n.host)}
	mas, err := peer.AddrInfoToP2pAddrs(&info)
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(mas))
	for _, m := range mas {
		out = append(out, m.String())
	}
	return out
}

// connectBootstrap dials every bootstrap peer in parallel, each within
// BootstrapTimeout; failures are logged, the DHT keeps retrying later.
func (n *Node) connectBootstrap(ctx context.Context) {
	var wg sync.WaitGroup
	var ok atomic.Int32
	for _, ai := range n.bootstrap {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, n.cfg.BootstrapTimeout)
			defer cancel()
			if err := n.host.Connect(cctx, ai); err != nil {
				log.Warnw("bootstrap peer unreachable", logkey.Peer, ai.ID, logkey.Err, err)
				return
			}
			n.host.ConnManager().Protect(ai.ID, "pilot-bootstrap")
			ok.Add(1)
		})
	}
	var rejoined atomic.Int32
	for _, ai := range n.rejoin {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, n.cfg.BootstrapTimeout)
			defer cancel()
			if err := n.host.Connect(cctx, ai); err != nil {
				log.Debugw("remembered peer unreachable", logkey.Peer, ai.ID, logkey.Err, err)
				return
			}
			rejoined.Add(1)
		})
	}
	wg.Wait()
	if len(n.rejoin) > 0 {
		log.Infow("rejoined through remembered peers", logkey.Count, rejoined.Load(), logkey.Total, len(n.rejoin))
	}
	if len(n.bootstrap) > 0 && ok.Load() == 0 && rejoined.Load() == 0 {
		log.Warnw("no bootstrap or remembered peer reachable; the DHT will keep trying", logkey.Total, len(n.bootstrap)+len(n.rejoin))
	}
}

// gcStore runs Badger's value-log garbage collection now and then.
func (n *Node) gcStore(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for n.db.RunValueLogGC(0.5) == nil && ctx.Err() == nil {
			}
			n.metrics.storeGC(time.Now())
		}
	}
}

// isConnected reports whether there is a usable connection to p.
func (n *Node) isConnected(p peer.ID) bool {
	return n.host.Network().Connectedness(p) == network.Connected
}

// PublishedAddrs are the multiaddrs the node announces to everyone (in
// identify and the DHT): only relay addresses for a private node.
func (n *Node) PublishedAddrs() []string {
	if n.host == nil {
		return nil
	}
	out := make([]string, 0)
	for _, a := range n.host.Addrs() {
		out = append(out, a.String())
	}
	return out
}
