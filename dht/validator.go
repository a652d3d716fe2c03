package dht

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	record "github.com/libp2p/go-libp2p-record"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// Validator checks Pilot's DHT records (the "/pilot/" namespace). It is
// registered with the DHT under Namespace and is called concurrently by the
// DHT for every record it receives or compares.
type Validator struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	claims *claimLog
}

var _ record.Validator = (*Validator)(nil)

// NewValidator returns a validator that also remembers, for a bounded set of
// recent keys, every distinct peer seen claiming an address (see Claimants).
func NewValidator() *Validator { return &Validator{claims: newClaimLog(4096)} }

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// Validate implements record.Validator.
func (v *Validator) Validate(key string, value []byte) error {
	switch {
	case strings.HasPrefix(key, addrPrefix):
		rec, err := DecodeAddrRecord(key, value, v.now())
		if err != nil {
			return err
		}
		v.claims.note(rec.Addr, rec.PeerID)
		return nil
	case strings.HasPrefix(key, profilePrefix):
		rec, err := DecodeProfileRecord(key, value, v.now())
		if err != nil {
			return err
		}
		v.claims.note(rec.Addr, rec.PeerID)
		return nil
	default:
		return fmt.Errorf("%w: unknown record type in key %q", ErrInvalidRecord, key)
	}
}

// Select implements record.Validator: the valid record with the highest
// seq wins; ties go to the smallest value in byte order, so every node picks
// the same record. Invalid values are never selected.
func (v *Validator) Select(key string, values [][]byte) (int, error) {
	best, bestSeq := -1, uint64(0)
	now := v.now()
	for i, val := range values {
		rec, err := decodeClaim(key, val, now)
		if err != nil {
			continue
		}
		v.claims.note(rec.addr, rec.peer)
		switch {
		case best < 0, rec.seq > bestSeq:
			best, bestSeq = i, rec.seq
		case rec.seq == bestSeq && bytes.Compare(val, values[best]) < 0:
			best = i
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("%w: none of %d values for %q is valid", ErrInvalidRecord, len(values), key)
	}
	return best, nil
}

// claim is what Select needs of any Pilot record.
type claim struct {
	addr addressing.Addr
	peer peer.ID
	seq  uint64
}

// decodeClaim validates value by the record type its key names.
func decodeClaim(key string, value []byte, now time.Time) (claim, error) {
	if strings.HasPrefix(key, profilePrefix) {
		rec, err := DecodeProfileRecord(key, value, now)
		if err != nil {
			return claim{}, err
		}
		return claim{rec.Addr, rec.PeerID, rec.Seq}, nil
	}
	rec, err := DecodeAddrRecord(key, value, now)
	if err != nil {
		return claim{}, err
	}
	return claim{rec.Addr, rec.PeerID, rec.Seq}, nil
}

// Claimants returns the distinct peers this node has seen holding valid
// records for a, in the order first seen. More than one means two keys hash
// to the same address: a collision or an attack.
func (v *Validator) Claimants(a addressing.Addr) []peer.ID { return v.claims.get(a) }

// claimLog remembers claimants per address for the most recent keys.
type claimLog struct {
	mu    sync.Mutex
	max   int
	order []addressing.Addr
	byKey map[addressing.Addr][]peer.ID
}

func newClaimLog(max int) *claimLog {
	return &claimLog{max: max, byKey: make(map[addressing.Addr][]peer.ID)}
}

// maxClaimants bounds the peers remembered for one address.
const maxClaimants = 8

func (c *claimLog) note(a addressing.Addr, id peer.ID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ids, ok := c.byKey[a]
	if !ok {
		if len(c.order) >= c.max {
			delete(c.byKey, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, a)
	}
	for _, have := range ids {
		if have == id {
			return
		}
	}
	if len(ids) < maxClaimants {
		c.byKey[a] = append(ids, id)
	}
}

func (c *claimLog) get(a addressing.Addr) []peer.ID {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]peer.ID(nil), c.byKey[a]...)
}
