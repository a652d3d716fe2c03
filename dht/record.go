package dht

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pilot-agents/pilot/addressing"
)

// Namespace is the DHT record namespace: every Pilot key starts with
// "/pilot/".
const Namespace = "pilot"

// addrPrefix is the key prefix of address records.
const addrPrefix = "/" + Namespace + "/addr/"

// Limits on an address record, so a hostile peer cannot make us store or
// parse something large.
const (
	// MaxRecordSize bounds a marshalled address record envelope.
	MaxRecordSize = 8 << 10
	// MaxRecordAddrs bounds the multiaddrs in one record.
	MaxRecordAddrs = 32
	// MaxClockSkew bounds how far in the future a record's seq (a Unix
	// time in nanoseconds) may lie; it stops one record from out-ranking
	// every later one forever.
	MaxClockSkew = time.Hour
)

// ErrInvalidRecord is wrapped by every validation failure.
var ErrInvalidRecord = errors.New("invalid address record")

// AddrRecord is a verified address record: the peer behind a Pilot address
// and where to reach it.
type AddrRecord struct {
	Addr   addressing.Addr
	PeerID peer.ID
	Addrs  []ma.Multiaddr
	Seq    uint64
}

// AddrInfo returns the record as a libp2p AddrInfo.
func (r *AddrRecord) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: r.PeerID, Addrs: r.Addrs}
}

// AddrKey returns the DHT key of a's address record: "/pilot/addr/<12 hex>".
func AddrKey(a addressing.Addr) string { return addrPrefix + a.Hex() }

// ParseAddrKey reads the address out of an address record key. Only the
// canonical form (lowercase, no dots) is accepted, so every address has
// exactly one key.
func ParseAddrKey(key string) (addressing.Addr, error) {
	hexPart, ok := strings.CutPrefix(key, addrPrefix)
	if !ok {
		return addressing.Addr{}, fmt.Errorf("%w: key %q is not under %s", ErrInvalidRecord, key, addrPrefix)
	}
	a, err := addressing.Parse(hexPart)
	if err != nil || a.Hex() != hexPart {
		return addressing.Addr{}, fmt.Errorf("%w: key %q does not end in 12 lowercase hex digits", ErrInvalidRecord, key)
	}
	return a, nil
}

// SignAddrRecord seals a PeerRecord for the key's owner into a signed
// envelope: the value stored under AddrKey.
func SignAddrRecord(priv crypto.PrivKey, addrs []ma.Multiaddr, seq uint64) ([]byte, error) {
	id, err := peer.IDFromPrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("dht: peer ID of signing key: %w", err)
	}
	if len(addrs) > MaxRecordAddrs {
		addrs = addrs[:MaxRecordAddrs]
	}
	rec := &peer.PeerRecord{PeerID: id, Addrs: addrs, Seq: seq}
	env, err := record.Seal(rec, priv)
	if err != nil {
		return nil, fmt.Errorf("dht: seal address record: %w", err)
	}
	b, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("dht: marshal address record: %w", err)
	}
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("dht: address record is %d bytes, over the %d limit", len(b), MaxRecordSize)
	}
	return b, nil
}

// DecodeAddrRecord validates value as the record stored under key and
// returns it. It checks, in order: the size, the envelope signature, that
// the signing key hashes to the address in the key, that the record's peer
// ID is the signing key's, the seq, and the multiaddr count. now bounds the
// seq (see MaxClockSkew).
func DecodeAddrRecord(key string, value []byte, now time.Time) (*AddrRecord, error) {
	a, err := ParseAddrKey(key)
	if err != nil {
		return nil, err
	}
	if len(value) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, over the %d limit", ErrInvalidRecord, len(value), MaxRecordSize)
	}
	var rec peer.PeerRecord
	env, err := record.ConsumeTypedEnvelope(value, &rec)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	if !a.Matches(env.PublicKey) {
		got, _ := addressing.FromPublicKey(env.PublicKey)
		return nil, fmt.Errorf("%w: signed by the key of %s, not of %s", ErrInvalidRecord, got, a)
	}
	signer, err := peer.IDFromPublicKey(env.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: signer: %v", ErrInvalidRecord, err)
	}
	if rec.PeerID != signer {
		return nil, fmt.Errorf("%w: record names peer %s but is signed by %s", ErrInvalidRecord, rec.PeerID, signer)
	}
	if rec.Seq == 0 {
		return nil, fmt.Errorf("%w: seq is zero", ErrInvalidRecord)
	}
	if limit := uint64(now.Add(MaxClockSkew).UnixNano()); rec.Seq > limit {
		return nil, fmt.Errorf("%w: seq %d lies more than %s in the future", ErrInvalidRecord, rec.Seq, MaxClockSkew)
	}
	if len(rec.Addrs) > MaxRecordAddrs {
		return nil, fmt.Errorf("%w: %d multiaddrs, over the %d limit", ErrInvalidRecord, len(rec.Addrs), MaxRecordAddrs)
	}
	return &AddrRecord{Addr: a, PeerID: rec.PeerID, Addrs: rec.Addrs, Seq: rec.Seq}, nil
}
