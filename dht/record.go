package dht

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
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
	return parseHexKey(key, addrPrefix, ErrInvalidRecord)
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
	return sealRecord(&peer.PeerRecord{PeerID: id, Addrs: addrs, Seq: seq}, priv, MaxRecordSize, "address record")
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
	var rec peer.PeerRecord
	signer, err := openRecord(a, value, &rec, MaxRecordSize, ErrInvalidRecord)
	if err != nil {
		return nil, err
	}
	if rec.PeerID != signer {
		return nil, fmt.Errorf("%w: record names peer %s but is signed by %s", ErrInvalidRecord, rec.PeerID, signer)
	}
	if err := checkSeq(rec.Seq, now, ErrInvalidRecord); err != nil {
		return nil, err
	}
	if len(rec.Addrs) > MaxRecordAddrs {
		return nil, fmt.Errorf("%w: %d multiaddrs, over the %d limit", ErrInvalidRecord, len(rec.Addrs), MaxRecordAddrs)
	}
	return &AddrRecord{Addr: a, PeerID: rec.PeerID, Addrs: rec.Addrs, Seq: rec.Seq}, nil
}
