package dht

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
)

// FuzzDecodeAddrRecord feeds arbitrary keys and values to the record
// decoder: it must never panic, and anything it accepts must be
// self-consistent (the peer hashes to the key's address).
func FuzzDecodeAddrRecord(f *testing.F) {
	priv, _ := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(make([]byte, 32)))
	a, _ := addressing.FromPublicKey(priv.GetPublic())
	good, err := SignAddrRecord(priv, testAddrs, 42)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(AddrKey(a), good)
	f.Add(AddrKey(a), []byte{})
	f.Add("/pilot/addr/zz", good)
	f.Add(AddrKey(a), good[:len(good)/2])
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		rec, err := DecodeAddrRecord(key, value, now)
		if err != nil {
			return
		}
		got, err := addressing.FromPeerID(rec.PeerID)
		if err != nil || got != rec.Addr || AddrKey(got) != key {
			t.Fatalf("accepted a record for %s under %q from peer %s", got, key, rec.PeerID)
		}
		if rec.Seq == 0 || len(rec.Addrs) > MaxRecordAddrs {
			t.Fatalf("accepted out-of-bounds record %+v", rec)
		}
	})
}

// FuzzDecodePin checks the stored-pin decoder on arbitrary bytes.
func FuzzDecodePin(f *testing.F) {
	priv, _ := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(make([]byte, 32)))
	id, _ := peer.IDFromPrivateKey(priv)
	a, _ := addressing.FromPeerID(id)
	f.Add([]byte(`{"peer_id":"` + id.String() + `","seq":3,"first_seen":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePin(a, b)
		if err != nil {
			return
		}
		if got, err := addressing.FromPeerID(p.PeerID); err != nil || got != a {
			t.Fatalf("accepted pin for another address: %v", p.PeerID)
		}
	})
}
