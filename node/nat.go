package node

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
	"github.com/pilot-agents/pilot/node/logkey"
)

// NAT traversal (docs/nat.md): a session between two private nodes starts
// on an anchor's relay; between trusted peers DCUtR (hole punching) or a
// direct dial to the addresses /pilot/addrs/1.0.0 hands out then adds a
// direct connection, which new streams prefer. Hole punching exchanges
// addresses, so it only ever runs between trusted peers.

// natState is the NAT-related state the host is built with. The host
// exists before the trust manager does, so trust and the connection list
// are bound late (bind); until then every peer counts as untrusted.
type natState struct {
	trusted atomic.Pointer[func(peer.ID) bool]
	conns   atomic.Pointer[func(peer.ID) []network.Conn]

	guess *natGuesser
	guard *reservationGuard // anchors only

	// waiting, if set (tests), is called when WaitDirect starts waiting
	// for an event. Atomic: tests set it while upgrades run.
	waiting atomic.Pointer[func(peer.ID)]

	mu      sync.Mutex
	ctx     context.Context // the node's run context, set by startNAT
	stopped bool
	// upgrading holds, per peer, the channel that closes when the upgrade
	// in flight ends.
	upgrading map[peer.ID]chan struct{}
	// failed remembers when an upgrade to a direct path last failed, so
	// bulk transfers to a peer behind a symmetric NAT do not wait for a
	// direct path again and again.
	failed map[peer.ID]time.Time
}

func newNATState() *natState {
	return &natState{guess: newNATGuesser(), upgrading: make(map[peer.ID]chan struct{}), failed: make(map[peer.ID]time.Time)}
}

func (st *natState) bind(trusted func(peer.ID) bool, conns func(peer.ID) []network.Conn) {
	st.bindConns(conns)
	st.bindTrust(trusted)
}

func (st *natState) bindConns(conns func(peer.ID) []network.Conn) { st.conns.Store(&conns) }

// bindTrust is called once the trust manager exists: the atomic store
// publishes it to libp2p's goroutines (dial workers, hole punching).
func (st *natState) bindTrust(trusted func(peer.ID) bool) { st.trusted.Store(&trusted) }

func (st *natState) isTrusted(p peer.ID) bool {
	f := st.trusted.Load()
	return f != nil && (*f)(p)
}

func (st *natState) connsTo(p peer.ID) []network.Conn {
	f := st.conns.Load()
	if f == nil {
		return nil
	}
	return (*f)(p)
}

// startNAT binds the NAT state to the node's connections once the host
// exists and runs the NAT guesser until ctx ends. Start calls it right
// after newHost (so identify on the first connections is seen), and
// bindTrust once the trust manager exists.
func (n *Node) startNAT(ctx context.Context, keeper *relayKeeper) error {
	st := keeper.nat
	if st == nil { // a host built without newHost's NAT options
		st = newNATState()
		keeper.nat = st
	}
	n.nat = st
	n.natKeeper = keeper
	st.bindConns(n.host.Network().ConnsToPeer)
	st.mu.Lock()
	st.ctx = ctx
	st.mu.Unlock()
	if st.guard != nil {
		n.host.Network().Notify(st.guard)
	}
	sub, err := n.host.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted), eventbus.Name("pilot-nat"))
	if err != nil {
		return err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer sub.Close()
		defer func() {
			st.mu.Lock()
			st.stopped = true
			st.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				ev := e.(event.EvtPeerIdentificationCompleted)
				if ev.Conn != nil && ev.ObservedAddr != nil && !isRelayed(ev.Conn) {
					st.guess.observe(ev.Conn, ev.ObservedAddr, time.Now())
				}
			}
		}
	}()
	return nil
}

// NAT guesses
const (
	NATUnknown   = "unknown"
	NATPublic    = "public"
	NATBehind    = "behind NAT (type unknown)"
	NATCone      = "behind NAT (cone-like)"
	NATSymmetric = "behind NAT (symmetric-like)"
)

// NATGuess is what the node makes of the addresses its peers observe it
// at (identify's observed address), one of the NAT* constants. It is a
// guess from what peers report, which they may lie about; see docs/nat.md.
func (n *Node) NATGuess() string {
	if n.nat == nil {
		return NATUnknown
	}
	return n.nat.guess.guess(time.Now())
}

// RelayReservations are the anchors on which the node holds a live relay
// reservation (private nodes only).
func (n *Node) RelayReservations() []peer.ID {
	if n.natKeeper == nil {
		return nil
	}
	return n.natKeeper.reservations()
}

// --- hole punching, trusted peers only ---------------------------------

// holePunchFilter is the DCUtR address filter: a trusted peer gets the
// node's hole-punch addresses and its own are used; an untrusted peer gets
// nothing and what it sends is dropped, so the exchange aborts before
// either side sends an address or dials anything.
type holePunchFilter struct{ st *natState }

// FilterLocal filters the addresses sent to remote.
func (f holePunchFilter) FilterLocal(remote peer.ID, addrs []ma.Multiaddr) []ma.Multiaddr {
	if !f.st.isTrusted(remote) {
		return nil
	}
	return nonCircuit(addrs)
}

// FilterRemote filters the addresses received from remote: an untrusted
// peer cannot make the node dial (and so reveal itself to) addresses of
// its choosing.
func (f holePunchFilter) FilterRemote(remote peer.ID, addrs []ma.Multiaddr) []ma.Multiaddr {
	if !f.st.isTrusted(remote) {
		return nil
	}
	return nonCircuit(addrs)
}

func nonCircuit(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range addrs {
		if !isCircuit(a) {
			out = append(out, a)
		}
	}
	return out
}

// privateDialGater keeps a private node from dialing the direct address of
// an untrusted peer whose only connections to it are inbound relayed ones:
// that peer found the node through its relay address, and a direct dial
// back would show it the node's IP. go-libp2p's hole puncher does exactly
// that before any address exchange when the relayed peer has a public
// address in the peerstore (holePuncher.directConnect), which the DCUtR
// address filter cannot stop. Dials to relay addresses, to trusted peers
// and to peers the node reached itself are not affected.
type privateDialGater struct{ st *natState }

var _ connmgr.ConnectionGater = privateDialGater{}

func (privateDialGater) InterceptPeerDial(peer.ID) bool { return true }

func (g privateDialGater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	if isCircuit(a) {
		return true
	}
	conns := g.st.connsTo(p)
	if len(conns) == 0 {
		return true
	}
	for _, c := range conns {
		if !isRelayed(c) || c.Stat().Direction != network.DirInbound {
			return true
		}
	}
	if g.st.isTrusted(p) {
		return true
	}
	log.Debugw("not dialing an untrusted peer that came through the relay directly: it would learn this node's address", logkey.Peer, p, logkey.Addr, a)
	return false
}

func (privateDialGater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (privateDialGater) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}

func (privateDialGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}

// --- anchors: keep relay clients connected ------------------------------

// reservationGuard is an anchor's relay ACL: it admits every reservation
// and protects the client's connections from the connection manager while
// the reservation may be live (until its TTL passes or the client
// disconnects), so trimming never drops a private node's relay.
type reservationGuard struct {
	cm  connmgr.ConnManager
	ttl time.Duration

	mu    sync.Mutex
	until map[peer.ID]time.Time
}

const relayClientTag = "pilot-relay-client"

func newReservationGuard(cm connmgr.ConnManager, ttl time.Duration) *reservationGuard {
	return &reservationGuard{cm: cm, ttl: ttl, until: make(map[peer.ID]time.Time)}
}

// AllowReserve implements relayv2.ACLFilter.
func (g *reservationGuard) AllowReserve(p peer.ID, _ ma.Multiaddr) bool {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for q, t := range g.until { // expired reservations: at most MaxReservations entries
		if now.After(t) {
			delete(g.until, q)
			g.cm.Unprotect(q, relayClientTag)
		}
	}
	g.until[p] = now.Add(g.ttl)
	g.cm.Protect(p, relayClientTag)
	return true
}

// AllowConnect implements relayv2.ACLFilter.
func (*reservationGuard) AllowConnect(peer.ID, ma.Multiaddr, peer.ID) bool { return true }

func (g *reservationGuard) protected(p peer.ID) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.until[p]
	return ok
}

// Disconnected drops the protection with the last connection: the relay
// drops the reservation then too.
func (g *reservationGuard) Disconnected(nw network.Network, c network.Conn) {
	p := c.RemotePeer()
	if nw.Connectedness(p) != network.NotConnected {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.until[p]; ok {
		delete(g.until, p)
		g.cm.Unprotect(p, relayClientTag)
	}
}

func (*reservationGuard) Connected(network.Network, network.Conn)   {}
func (*reservationGuard) Listen(network.Network, ma.Multiaddr)      {}
func (*reservationGuard) ListenClose(network.Network, ma.Multiaddr) {}

// --- NAT guess -----------------------------------------------------------

// natGuesser keeps the latest observed address per (transport, local port,
// observer IP) from identify on direct connections, and guesses the NAT
// from them:
//   - an observation equal to the connection's own local address with a
//     non-private IP: no translation between the node and that observer;
//   - a different observed address: translation (a NAT);
//   - for one local port, two observers that see the same external port:
//     the NAT maps endpoint-independently (cone-like); different ports:
//     endpoint-dependent (symmetric-like).
type natGuesser struct {
	mu  sync.Mutex
	obs map[natKey]natObs
}

type natKey struct {
	transport string // "tcp" or "udp"
	localPort string
	observer  string // the observer's IP
}

type natObs struct {
	ip, port   string
	translated bool
	private    bool // the observed IP is a private (RFC1918, ...) one
	at         time.Time
}

// Bounds of the guesser's memory.
const (
	natMaxObs = 256
	natObsTTL = 30 * time.Minute
)

func newNATGuesser() *natGuesser { return &natGuesser{obs: make(map[natKey]natObs)} }

// ipPort splits a thin-waist multiaddr into transport, IP and port.
func ipPort(a ma.Multiaddr) (transport, ip, port string, ok bool) {
	if a == nil {
		return "", "", "", false
	}
	if v, err := a.ValueForProtocol(ma.P_IP4); err == nil {
		ip = v
	} else if v, err := a.ValueForProtocol(ma.P_IP6); err == nil {
		ip = v
	} else {
		return "", "", "", false
	}
	if v, err := a.ValueForProtocol(ma.P_TCP); err == nil {
		return "tcp", ip, v, true
	}
	if v, err := a.ValueForProtocol(ma.P_UDP); err == nil {
		return "udp", ip, v, true
	}
	return "", "", "", false
}

// observe records that the peer at c's other end sees this node at
// observed.
func (g *natGuesser) observe(c network.ConnMultiaddrs, observed ma.Multiaddr, now time.Time) {
	if isCircuit(observed) || manet.IsIPLoopback(observed) || manet.IsIPLoopback(c.RemoteMultiaddr()) {
		return
	}
	lt, lip, lport, ok := ipPort(c.LocalMultiaddr())
	if !ok {
		return
	}
	ot, oip, oport, ok := ipPort(observed)
	if !ok || ot != lt {
		return
	}
	_, rip, _, ok := ipPort(c.RemoteMultiaddr())
	if !ok {
		return
	}
	o := natObs{
		ip: oip, port: oport, at: now,
		translated: oip != lip || oport != lport,
		private:    manet.IsPrivateAddr(observed),
	}
	if !o.translated && o.private {
		return // a LAN neighbour: says nothing about the way out
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := natKey{transport: lt, localPort: lport, observer: rip}
	if _, ok := g.obs[k]; !ok && len(g.obs) >= natMaxObs {
		var oldest natKey
		var first = true
		for k2, v := range g.obs {
			if first || v.at.Before(g.obs[oldest].at) {
				oldest, first = k2, false
			}
		}
		delete(g.obs, oldest)
	}
	g.obs[k] = o
}

func (g *natGuesser) guess(now time.Time) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	type group struct{ transport, localPort string }
	ports := map[group]map[string]bool{} // external ports seen per local port
	observers := map[group]int{}
	public, translated := false, false
	for k, o := range g.obs {
		if now.Sub(o.at) > natObsTTL {
			delete(g.obs, k)
			continue
		}
		if !o.translated {
			public = true
			continue
		}
		translated = true
		gk := group{k.transport, k.localPort}
		if ports[gk] == nil {
			ports[gk] = map[string]bool{}
		}
		ports[gk][o.ip+":"+o.port] = true
		observers[gk]++
	}
	switch {
	case translated:
		cone := false
		for gk, seen := range ports {
			if observers[gk] < 2 {
				continue
			}
			if len(seen) > 1 {
				return NATSymmetric
			}
			cone = true
		}
		if cone {
			return NATCone
		}
		return NATBehind
	case public:
		return NATPublic
	}
	return NATUnknown
}

// sortedIDs sorts peer IDs for stable output.
func sortedIDs(ids []peer.ID) []peer.ID {
	slices.Sort(ids)
	return ids
}

// ConfirmedAddrs are the node's direct addresses as AutoNAT v2 judged
// them: reachable from outside, or not (addresses it has not checked yet
// are in neither). Both are empty when AutoNAT v2 is off.
func (n *Node) ConfirmedAddrs() (reachable, unreachable []ma.Multiaddr) {
	h, ok := n.host.(interface {
		ConfirmedAddrs() (reachable, unreachable, unknown []ma.Multiaddr)
	})
	if !ok || !n.cfg.AutoNATv2 {
		return nil, nil
	}
	reachable, unreachable, _ = h.ConfirmedAddrs()
	return reachable, unreachable
}
