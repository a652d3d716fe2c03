package dht

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// Pin is the peer first seen behind an address (trust on first use, like
// SSH's known_hosts) and the highest record seq seen from it.
type Pin struct {
	PeerID    peer.ID   `json:"peer_id"`
	Seq       uint64    `json:"seq"`
	FirstSeen time.Time `json:"first_seen"`
}

// maxPinSize bounds a stored pin; anything larger is corrupt.
const maxPinSize = 1024

// PinStore keeps pins in a datastore (the node's Badger store), so they
// survive restarts. It is safe for concurrent use.
type PinStore struct {
	mu sync.Mutex
	ds ds.Datastore
}

// NewPinStore returns a pin store over d; keys live under "/pins/".
func NewPinStore(d ds.Datastore) *PinStore { return &PinStore{ds: d} }

func pinKey(a addressing.Addr) ds.Key { return ds.NewKey("/pins/" + a.Hex()) }

// Get returns the pin for a; ok is false when there is none.
func (s *PinStore) Get(ctx context.Context, a addressing.Addr) (Pin, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(ctx, a)
}

func (s *PinStore) get(ctx context.Context, a addressing.Addr) (Pin, bool, error) {
	b, err := s.ds.Get(ctx, pinKey(a))
	if errors.Is(err, ds.ErrNotFound) {
		return Pin{}, false, nil
	}
	if err != nil {
		return Pin{}, false, fmt.Errorf("dht: read pin %s: %w", a, err)
	}
	p, err := DecodePin(a, b)
	if err != nil {
		return Pin{}, false, err
	}
	return p, true, nil
}

// DecodePin validates a stored pin for a: well-formed JSON, a peer ID whose
// key hashes to a, and nothing larger than a pin can be.
func DecodePin(a addressing.Addr, b []byte) (Pin, error) {
	if len(b) > maxPinSize {
		return Pin{}, fmt.Errorf("dht: pin for %s is %d bytes: corrupt", a, len(b))
	}
	var p Pin
	if err := json.Unmarshal(b, &p); err != nil {
		return Pin{}, fmt.Errorf("dht: pin for %s: %w", a, err)
	}
	if err := p.PeerID.Validate(); err != nil {
		return Pin{}, fmt.Errorf("dht: pin for %s: peer ID: %w", a, err)
	}
	got, err := addressing.FromPeerID(p.PeerID)
	if err != nil || got != a {
		return Pin{}, fmt.Errorf("dht: pin for %s names peer %s of another address", a, p.PeerID)
	}
	return p, nil
}

// Check compares a verified record with the pin for its address. With no
// pin yet it pins the record's peer (TOFU). With a pin for another peer it
// returns an error wrapping ErrPinMismatch and changes nothing. Otherwise it
// raises the pin's seq to the record's. It reports whether the pin is new.
func (s *PinStore) Check(ctx context.Context, rec *AddrRecord) (created bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok, err := s.get(ctx, rec.Addr)
	if err != nil {
		return false, err
	}
	if ok && p.PeerID != rec.PeerID {
		return false, fmt.Errorf("%w: %s is pinned to %s (since %s) but the DHT now names %s; if the owner really changed keys, remove the pin with `pilot unpin %s`",
			ErrPinMismatch, rec.Addr, p.PeerID, p.FirstSeen.Format(time.RFC3339), rec.PeerID, rec.Addr)
	}
	if ok && rec.Seq <= p.Seq {
		return false, nil
	}
	if !ok {
		p = Pin{PeerID: rec.PeerID, FirstSeen: time.Now().UTC()}
	}
	p.Seq = max(p.Seq, rec.Seq)
	b, err := json.Marshal(p)
	if err != nil {
		return false, fmt.Errorf("dht: encode pin %s: %w", rec.Addr, err)
	}
	if err := s.ds.Put(ctx, pinKey(rec.Addr), b); err != nil {
		return false, fmt.Errorf("dht: store pin %s: %w", rec.Addr, err)
	}
	return !ok, nil
}

// Remove deletes the pin for a, so the next resolution pins afresh.
func (s *PinStore) Remove(ctx context.Context, a addressing.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ds.Delete(ctx, pinKey(a)); err != nil {
		return fmt.Errorf("dht: remove pin %s: %w", a, err)
	}
	return nil
}
