package dht

import (
	"context"
	"errors"
	"fmt"
	"time"

	kaddht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/pilot-agents/pilot/addressing"
)

// Resolution is the outcome of resolving an address.
type Resolution struct {
	Record *AddrRecord
	// PinCreated is true when this resolution pinned the address for the
	// first time.
	PinCreated bool
}

// Resolve finds the peer behind a through the DHT, within ResolveTimeout.
// It re-verifies the record (signature, key hash, peer ID), fails with
// ErrAmbiguous when more than one key has been seen claiming a, pins the
// peer on first use and fails with ErrPinMismatch if the pin names another
// peer. On success the record's addresses are added to the peerstore.
func (d *DHT) Resolve(ctx context.Context, a addressing.Addr) (*Resolution, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ResolveTimeout)
	defer cancel()

	key := AddrKey(a)
	vals, err := d.kad.SearchValue(ctx, key, kaddht.Quorum(d.cfg.ResolveQuorum))
	if err != nil {
		return nil, fmt.Errorf("dht: resolve %s: %w", a, err)
	}
	var best *AddrRecord
	for v := range vals {
		rec, err := DecodeAddrRecord(key, v, time.Now())
		if err != nil {
			// The DHT validated it already; this is defence in depth.
			log.Warnw("dropping invalid record from lookup", "addr", a, "err", err)
			continue
		}
		if best == nil || rec.Seq > best.Seq {
			best = rec
		}
	}
	if best == nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return nil, fmt.Errorf("dht: resolve %s: %w: no record within %s", a, ErrNotFound, d.cfg.ResolveTimeout)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("dht: resolve %s: %w", a, ctx.Err())
		default:
			return nil, fmt.Errorf("dht: resolve %s: %w: %w", a, ErrNotFound, routing.ErrNotFound)
		}
	}
	// Verify the hash ourselves, whatever the validator did.
	got, err := addressing.FromPeerID(best.PeerID)
	if err != nil || got != a {
		return nil, fmt.Errorf("dht: resolve %s: record for peer %s does not hash to the address", a, best.PeerID)
	}
	if ids := d.validator.Claimants(a); len(ids) > 1 {
		return nil, fmt.Errorf("dht: resolve %s: %w: %d keys claim it: %v", a, ErrAmbiguous, len(ids), ids)
	}
	created, err := d.pins.Check(ctx, best)
	if err != nil {
		if errors.Is(err, ErrPinMismatch) {
			log.Errorw("PINNED ADDRESS CHANGED HANDS: refusing the new claimant", "addr", a, "err", err)
		}
		return nil, fmt.Errorf("dht: resolve %s: %w", a, err)
	}
	if best.PeerID != d.h.ID() {
		d.h.Peerstore().AddAddrs(best.PeerID, best.Addrs, peerstore.RecentlyConnectedAddrTTL)
	}
	return &Resolution{Record: best, PinCreated: created}, nil
}
