package node

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/pilot-agents/pilot/node/logkey"
)

// Private by default: a node that is neither --public nor an anchor
// publishes only relay (p2p-circuit) addresses — in identify, in its signed
// peer record and in the DHT — and hands its direct addresses only to
// trusted peers, over the addrs protocol below. Anchors run the circuit
// relay v2 service that carries private nodes' sessions until a direct
// path exists. See docs/privacy.md.

// addrsProtocol is how a trusted peer asks for a node's direct addresses.
const addrsProtocol = protocol.ID("/pilot/addrs/1.0.0")

// Limits of the addrs protocol.
const (
	directAddrAttempts = 4 // 0.5 + 1 + 2 s of backoff between them
	maxDirectAddrs     = 32
	maxAddrBytes       = 256
	addrsExchangeTTL   = 10 * time.Second
)

// private reports whether the node hides its direct addresses.
func (c *Config) private() bool { return !c.Public && !c.Anchor }

func isCircuit(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// relayResources sizes an anchor's relay for real fallback sessions, not
// just for hole-punch coordination: go-libp2p's defaults cut a circuit
// after 2 minutes or 128 KiB.
// cfg's relay fields override the reservation counts.
func relayResources(cfg *Config) relayv2.Resources {
	r := relayv2.DefaultResources()
	r.Limit = &relayv2.RelayLimit{Duration: time.Hour, Data: 1 << 30}
	r.MaxReservations = cfg.RelayMaxReservations
	r.MaxCircuits = 64
	r.MaxReservationsPerPeer = 1 // a peer renews its one reservation, it never holds two
	r.MaxReservationsPerIP = cfg.RelayReservationsPerIP
	r.MaxReservationsPerASN = cfg.RelayMaxReservations
	return r
}

// privacyOptions returns the host options that make cfg's privacy policy
// real: the relay service on anchors (with relayOpts, default
// relayResources), relay-only addresses on private nodes (from keeper,
// which holds their reservations).
func privacyOptions(cfg *Config, keeper *relayKeeper, relayOpts ...relayv2.Option) []libp2p.Option {
	var opts []libp2p.Option
	if cfg.Anchor {
		if len(relayOpts) == 0 {
			relayOpts = []relayv2.Option{relayv2.WithResources(relayResources(cfg))}
		}
		opts = append(opts, libp2p.EnableRelayService(relayOpts...))
	}
	if cfg.private() {
		opts = append(opts, libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return keeper.addrs() }))
	}
	return opts
}

// directAddrs are the node's listen addresses without relays, whatever its
// privacy policy publishes.
func directAddrs(h host.Host) []ma.Multiaddr {
	if all, ok := h.(interface{ AllAddrs() []ma.Multiaddr }); ok {
		var out []ma.Multiaddr
		for _, a := range all.AllAddrs() {
			if !isCircuit(a) {
				out = append(out, a)
			}
		}
		return out
	}
	return h.Addrs()
}

// serveAddrs answers the addrs protocol: direct addresses for trusted
// peers, nothing for anyone else.
func (n *Node) serveAddrs(s network.Stream) {
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(addrsExchangeTTL))
	var addrs []ma.Multiaddr
	if n.trusted(s.Conn().RemotePeer()) {
		addrs = directAddrs(n.host)
	}
	if err := writeAddrs(s, addrs); err != nil {
		s.Reset()
	}
}

// fetchDirectAddrs asks a trusted peer for its direct addresses and adds
// them to the peerstore. An untrusted asker gets an empty list.
func (n *Node) fetchDirectAddrs(ctx context.Context, p peer.ID) ([]ma.Multiaddr, error) {
	ctx, cancel := context.WithTimeout(ctx, addrsExchangeTTL)
	defer cancel()
	s, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "pilot-addrs"), p, addrsProtocol)
	if err != nil {
		return nil, fmt.Errorf("node: ask %s for direct addresses: %w", p, err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(addrsExchangeTTL))
	addrs, err := readAddrs(s)
	if err != nil {
		s.Reset()
		return nil, fmt.Errorf("node: direct addresses of %s: %w", p, err)
	}
	if len(addrs) > 0 {
		n.host.Peerstore().AddAddrs(p, addrs, peerstore.RecentlyConnectedAddrTTL)
	}
	return addrs, nil
}

// goDirect tries to add a direct connection to a trusted peer reached only
// through a relay. It is best effort and bounded.
func (n *Node) goDirect(ctx context.Context, p peer.ID) {
	if !n.trusted(p) || n.hasDirectConn(p) {
		return
	}
	// Trust reaches the two sides at different moments: the side that
	// approves asks before the other has heard of the approval and gets an
	// empty answer. Ask again a few times, with backoff, before giving up.
	var addrs []ma.Multiaddr
	for attempt, wait := 0, 500*time.Millisecond; ; attempt, wait = attempt+1, 2*wait {
		got, err := n.fetchDirectAddrs(ctx, p)
		if err == nil && len(got) > 0 {
			addrs = got
			break
		}
		if attempt == directAddrAttempts-1 {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	// The peer answered with addresses, so it trusts us and its hole-punch
	// filter will cooperate. Dial them, and if no direct connection exists
	// after punchAfter - from this dial or the peer's - start a hole punch
	// alongside. Behind two cone NATs the plain dial cannot succeed, and
	// over QUIC nothing reports that until its handshake times out (waiting
	// for it made QUIC take 5.1-5.8 s to go direct in the lab). Punching at
	// once is worse: a public peer whose own dial fails at once would punch
	// while the NATed peer's plain dial to it, which works, is still in
	// flight, and over TCP the two share a 4-tuple and break each other.
	// The plain dial keeps its full bound: it is what finds the TCP path
	// when a NAT blocks UDP.
	dctx, cancel := context.WithTimeout(ctx, addrsExchangeTTL)
	defer cancel()
	dialed := make(chan struct{})
	go func() {
		defer close(dialed)
		if err := n.host.Connect(network.WithForceDirectDial(dctx, "pilot-trusted"), peer.AddrInfo{ID: p, Addrs: addrs}); err != nil {
			log.Debugw("plain direct dial to trusted peer failed", logkey.Peer, p, logkey.Err, err)
		}
	}()
	if !n.WaitDirect(ctx, p, punchAfter) {
		n.repunch(ctx, p)
	}
	<-dialed
}

// punchAfter is how long goDirect gives plain direct dials (its own and
// the peer's) before it starts a hole punch. A dial to a reachable peer
// answers within a round trip or two; one that hangs this long is knocking
// on a NAT.
const punchAfter = time.Second

// repunch makes go-libp2p's hole puncher try again for a trusted peer
// behind a NAT. DCUtR starts only when a relayed connection arrives, and
// the relayed connection to p was opened before the two trusted each
// other - when the address filter still refused to punch. So one side (the
// smaller peer ID, to avoid both doing it) replaces an idle relayed
// connection with a fresh one through the same relay, which the other side
// receives as new and punches from. Busy connections are left alone.
func (n *Node) repunch(ctx context.Context, p peer.ID) {
	if n.id > p || n.hasDirectConn(p) {
		return
	}
	conns := n.host.Network().ConnsToPeer(p)
	for _, c := range conns {
		if !isRelayed(c) || len(c.GetStreams()) > 0 {
			return
		}
	}
	addrs := n.host.Peerstore().Addrs(p)
	for _, c := range conns {
		_ = c.Close()
	}
	rctx, cancel := context.WithTimeout(ctx, addrsExchangeTTL)
	defer cancel()
	if err := n.host.Connect(network.WithAllowLimitedConn(rctx, "pilot-repunch"), peer.AddrInfo{ID: p, Addrs: addrs}); err != nil {
		log.Debugw("fresh relayed connection for a hole punch failed", logkey.Peer, p, logkey.Err, err)
		return
	}
	if n.WaitDirect(ctx, p, n.directWait()) {
		log.Infow("hole punch succeeded", logkey.Peer, p)
	}
}

func (n *Node) hasDirectConn(p peer.ID) bool {
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if !isRelayed(c) {
			return true
		}
	}
	return false
}

// writeAddrs writes a count byte, then each multiaddr as a 2-byte length
// and its binary form.
func writeAddrs(w io.Writer, addrs []ma.Multiaddr) error {
	if len(addrs) > maxDirectAddrs {
		addrs = addrs[:maxDirectAddrs]
	}
	buf := []byte{byte(len(addrs))}
	for _, a := range addrs {
		b := a.Bytes()
		if len(b) > maxAddrBytes {
			continue
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(b)))
		buf = append(buf, b...)
	}
	_, err := w.Write(buf)
	return err
}

// readAddrs decodes what writeAddrs wrote, within the same bounds.
func readAddrs(r io.Reader) ([]ma.Multiaddr, error) {
	var count [1]byte
	if _, err := io.ReadFull(r, count[:]); err != nil {
		return nil, err
	}
	if int(count[0]) > maxDirectAddrs {
		return nil, fmt.Errorf("%d addresses, over the %d limit", count[0], maxDirectAddrs)
	}
	out := make([]ma.Multiaddr, 0, count[0])
	for range int(count[0]) {
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, err
		}
		size := int(binary.BigEndian.Uint16(l[:]))
		if size == 0 || size > maxAddrBytes {
			return nil, fmt.Errorf("address of %d bytes", size)
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		a, err := ma.NewMultiaddrBytes(b)
		if err != nil {
			return nil, err
		}
		if isCircuit(a) {
			return nil, errors.New("a relay address among direct addresses")
		}
		out = append(out, a)
	}
	return out, nil
}
