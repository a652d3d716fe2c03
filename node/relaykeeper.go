package node

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/pilot-agents/pilot/node/logkey"
)

// relayKeeper holds circuit relay v2 reservations on a private node's
// anchors and turns them into the relay addresses the node publishes.
//
// Why not go-libp2p's autorelay: autorelay announces a relay only through
// its public addresses, so on loopback, a LAN or a lab network it reserves
// and then publishes nothing. Pilot meshes live there too, so the keeper
// reserves itself (circuitv2 client.Reserve) and builds the addresses from
// the anchor addresses it was configured with.
//
// Relays come from a peer source: the configured anchors first, then, when
// fewer than wantRelays reservations are held (no anchor configured, or
// some are down), relays found among the node's closest DHT peers - the
// ones that offer the circuit v2 hop protocol (discover.go).
type relayKeeper struct {
	h       host.Host
	anchors []peer.AddrInfo
	nat     *natState // built with the host (newHost), bound by startNAT

	// closest, once set (after the DHT starts), returns the node's closest
	// DHT peers: the second source of relays.
	closest       atomic.Pointer[func(context.Context) []peer.ID]
	discoverEvery time.Duration

	mu       sync.Mutex
	circuits map[peer.ID][]ma.Multiaddr
	kept     map[peer.ID]bool      // relays a keep loop is running for
	expiry   map[peer.ID]time.Time // when each live reservation ends (doctor.go)
}

// Reservation timing.
const (
	reserveTimeout  = 10 * time.Second
	reserveMinRetry = time.Second
	reserveMaxRetry = 5 * time.Minute
	// renewBefore is how long before expiry a reservation is renewed.
	renewBefore = 15 * time.Minute
)

func newRelayKeeper(anchors []peer.AddrInfo) *relayKeeper {
	return &relayKeeper{
		anchors:       anchors,
		circuits:      make(map[peer.ID][]ma.Multiaddr),
		kept:          make(map[peer.ID]bool),
		nat:           newNATState(),
		discoverEvery: relayDiscoverEvery,
	}
}

// addrs are the relay addresses of the live reservations, in a stable
// order. It serves as the private node's AddrsFactory, so it is called
// from go-libp2p's goroutines.
func (k *relayKeeper) addrs() []ma.Multiaddr {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []ma.Multiaddr
	for _, cs := range k.circuits {
		out = append(out, cs...)
	}
	slices.SortFunc(out, func(a, b ma.Multiaddr) int { return slices.Compare(a.Bytes(), b.Bytes()) })
	return out
}

// reservations are the anchors with a live reservation, sorted.
func (k *relayKeeper) reservations() []peer.ID {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]peer.ID, 0, len(k.circuits))
	for p := range k.circuits {
		out = append(out, p)
	}
	return sortedIDs(out)
}

// run keeps one reservation per anchor until ctx ends, and tops them up
// from the DHT (discover).
func (k *relayKeeper) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, ai := range k.anchors {
		k.start(ctx, wg, ai, 0)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		k.discover(ctx, wg)
	}()
}

// start runs a keep loop for relay ai unless one runs already. giveUp > 0
// ends the loop after that many reservation failures in a row (relays
// found in the DHT; configured anchors are kept for good).
func (k *relayKeeper) start(ctx context.Context, wg *sync.WaitGroup, ai peer.AddrInfo, giveUp int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kept[ai.ID] || ctx.Err() != nil {
		return
	}
	k.kept[ai.ID] = true
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			k.mu.Lock()
			delete(k.kept, ai.ID)
			k.mu.Unlock()
		}()
		k.keep(ctx, ai, giveUp)
	}()
}

// keep holds a reservation on one anchor: it renews before expiry, and at
// once when the connection to the anchor drops (a restarted anchor has
// forgotten every reservation, and waiting for the renewal would leave the
// node without a published address for most of an hour).
func (k *relayKeeper) keep(ctx context.Context, ai peer.AddrInfo, giveUp int) {
	sub, err := k.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		log.Warnw("relay keeper cannot watch its anchor; renewing on schedule only", logkey.Relay, ai.ID, logkey.Err, err)
	} else {
		defer sub.Close()
	}
	lost := func() <-chan any {
		if sub == nil {
			return nil
		}
		return sub.Out()
	}
	retry := reserveMinRetry
	failures := 0
	for {
		rctx, cancel := context.WithTimeout(ctx, reserveTimeout)
		rsvp, err := client.Reserve(rctx, k.h, ai)
		cancel()
		var wait time.Duration
		if err != nil {
			k.set(ai.ID, nil)
			if failures++; giveUp > 0 && failures >= giveUp {
				log.Debugw("giving up on a relay found in the DHT", logkey.Relay, ai.ID, logkey.Err, err)
				return
			}
			if ctx.Err() == nil {
				log.Debugw("relay reservation failed", logkey.Relay, ai.ID, logkey.Err, err, logkey.Dur, retry)
			}
			wait = retry + time.Duration(rand.Int64N(int64(retry)/4+1))
			retry = min(2*retry, reserveMaxRetry)
		} else {
			k.set(ai.ID, circuitAddrs(ai))
			k.setExpiry(ai.ID, rsvp.Expiration)
			log.Infow("relay reservation held", logkey.Relay, ai.ID, logkey.Until, rsvp.Expiration)
			retry, failures = reserveMinRetry, 0
			wait = max(time.Until(rsvp.Expiration)-renewBefore, time.Minute)
		}
		t := time.NewTimer(wait)
		probe := time.NewTicker(anchorProbeEvery)
	wait:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				probe.Stop()
				return
			case <-t.C:
				break wait
			case <-probe.C:
				if err == nil && !k.alive(ctx, ai.ID) {
					t.Stop()
					k.set(ai.ID, nil)
					// The connection is dead but may not know it yet: close
					// it, so the next reservation dials afresh.
					_ = k.h.Network().ClosePeer(ai.ID)
					log.Infow("anchor stopped answering; reserving again", logkey.Relay, ai.ID)
					break wait
				}
			case e, ok := <-lost():
				if !ok {
					sub = nil
					continue
				}
				ev := e.(event.EvtPeerConnectednessChanged)
				if ev.Peer == ai.ID && ev.Connectedness == network.NotConnected && err == nil {
					t.Stop()
					k.set(ai.ID, nil)
					log.Infow("lost the anchor; reserving again", logkey.Relay, ai.ID)
					break wait
				}
			}
		}
		probe.Stop()
	}
}

// anchorProbeEvery is how often the keeper checks that an anchor holding
// its reservation still answers. An anchor killed and restarted has
// forgotten the reservation while the node's connection to it may look
// alive for a long time: a QUIC connection learns it is dead only when it
// next sends a packet (the restarted anchor answers with a stateless
// reset), and a TCP connection when its next segment draws a RST. The
// probe is that packet.
const anchorProbeEvery = 10 * time.Second

// alive pings the anchor over the existing connection (never dialing a
// new one), bounded by reserveTimeout.
func (k *relayKeeper) alive(ctx context.Context, anchor peer.ID) bool {
	pctx, cancel := context.WithTimeout(network.WithNoDial(ctx, "pilot-anchor-probe"), reserveTimeout)
	defer cancel()
	select {
	case r := <-ping.Ping(pctx, k.h, anchor):
		return r.Error == nil
	case <-pctx.Done():
		return false
	}
}

// set records the relay addresses a reservation on anchor gives (none:
// no reservation). While a reservation is live the connection to the
// anchor is protected from the connection manager: trimming it would
// take the node's only published addresses away.
func (k *relayKeeper) set(anchor peer.ID, addrs []ma.Multiaddr) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(addrs) == 0 {
		if _, ok := k.circuits[anchor]; ok && k.h != nil {
			k.h.ConnManager().Unprotect(anchor, relayReservationTag)
		}
		delete(k.circuits, anchor)
		delete(k.expiry, anchor)
		return
	}
	if k.h != nil {
		k.h.ConnManager().Protect(anchor, relayReservationTag)
	}
	k.circuits[anchor] = addrs
}

const relayReservationTag = "pilot-relay-reservation"

// circuitAddrs are "<anchor addr>/p2p/<anchor>/p2p-circuit" for every
// direct address of the anchor.
func circuitAddrs(ai peer.AddrInfo) []ma.Multiaddr {
	suffix, err := ma.NewMultiaddr("/p2p/" + ai.ID.String() + "/p2p-circuit")
	if err != nil {
		return nil
	}
	var out []ma.Multiaddr
	for _, a := range ai.Addrs {
		if !isCircuit(a) {
			out = append(out, a.Encapsulate(suffix))
		}
	}
	return out
}
