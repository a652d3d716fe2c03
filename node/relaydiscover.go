package node

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	"github.com/pilot-agents/pilot/node/logkey"
)

// Relay discovery: the keeper's second peer source, after the configured
// anchors.
const (
	// wantRelays is how many reservations a private node tries to hold:
	// two, so one relay going away leaves the node reachable.
	wantRelays = 2
	// relayDiscoverEvery is how often the keeper checks whether it holds
	// wantRelays reservations, and looks for more in the DHT if not.
	relayDiscoverEvery = 2 * time.Minute
	// discoveredGiveUp is how many reservation failures in a row end the
	// keeping of a relay found in the DHT (the next discovery round finds
	// another).
	discoveredGiveUp = 3
)

// useClosest sets the DHT lookup that discovery draws relays from.
func (k *relayKeeper) useClosest(f func(context.Context) []peer.ID) { k.closest.Store(&f) }

// discover tops the reservations up from the DHT every discoverEvery until
// ctx ends.
func (k *relayKeeper) discover(ctx context.Context, wg *sync.WaitGroup) {
	// The first look comes early: a node restarted without anchors (it
	// re-joined through remembered peers) should not stay unreachable for
	// a whole interval.
	t := time.NewTimer(min(firstDiscovery, k.discoverEvery))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			k.topUp(ctx, wg)
			t.Reset(k.discoverEvery)
		}
	}
}

// firstDiscovery is when the keeper first looks for relays in the DHT.
const firstDiscovery = 10 * time.Second

// topUp starts keeping relays found among the closest DHT peers while
// fewer than wantRelays are kept. A candidate must already be known (by
// identify) to offer the circuit v2 hop protocol: only relays - anchors -
// do, and a private node meets them as DHT servers anyway, so asking
// costs no extra connection and shows the node's IP to nobody new.
func (k *relayKeeper) topUp(ctx context.Context, wg *sync.WaitGroup) {
	f := k.closest.Load()
	k.mu.Lock()
	n := len(k.kept)
	k.mu.Unlock()
	if f == nil || n >= wantRelays {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, reserveTimeout)
	ids := (*f)(qctx)
	cancel()
	for _, p := range ids {
		k.mu.Lock()
		n, kept := len(k.kept), k.kept[p]
		k.mu.Unlock()
		if n >= wantRelays {
			return
		}
		if kept || p == k.h.ID() {
			continue
		}
		if ok, err := k.h.Peerstore().SupportsProtocols(p, proto.ProtoIDv2Hop); err != nil || len(ok) == 0 {
			continue
		}
		ai := k.h.Peerstore().PeerInfo(p)
		ai.Addrs = nonCircuit(ai.Addrs)
		if len(ai.Addrs) == 0 {
			continue
		}
		log.Infow("relay found in the DHT", logkey.Relay, p)
		k.start(ctx, wg, ai, discoveredGiveUp)
	}
}
