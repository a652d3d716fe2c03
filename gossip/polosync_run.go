package gossip

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// DefaultSyncInterval is Run's interval when it is given none.
const DefaultSyncInterval = time.Minute

// Run syncs with one random peer every interval until ctx ends or the
// PoloSync is closed; it blocks, so start it in a goroutine. Candidates
// come from peers (called once per interval; for example the host's
// connected peers, or those of the Polo topic); those not connected right
// now and this node itself are skipped. Sessions run one at a time, each
// bounded by SyncOptions.Timeout; after each successful one Run calls
// SyncOptions.OnSynced, if set. Failed sessions are logged at debug level.
// every <= 0 means DefaultSyncInterval.
func (s *PoloSync) Run(ctx context.Context, every time.Duration, peers func() []peer.ID) {
	if every <= 0 {
		every = DefaultSyncInterval
	}
	if err := s.enter(); err != nil {
		return
	}
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p, ok := s.pickPeer(peers)
		if !ok {
			continue
		}
		res, err := s.SyncWith(ctx, p)
		if err != nil {
			log.Debugw("polo sync: session failed", "peer", p, "err", err)
			continue
		}
		if s.opts.OnSynced != nil {
			s.opts.OnSynced(res)
		}
	}
}

// pickPeer chooses a random connected peer among peers(), other than this
// node (reservoir sampling: one pass, no copy).
func (s *PoloSync) pickPeer(peers func() []peer.ID) (peer.ID, bool) {
	if peers == nil {
		return "", false
	}
	var chosen peer.ID
	n := 0
	for _, p := range peers() {
		if p == s.h.ID() || s.h.Network().Connectedness(p) != network.Connected {
			continue
		}
		n++
		if rand.IntN(n) == 0 {
			chosen = p
		}
	}
	return chosen, n > 0
}
