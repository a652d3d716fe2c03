package dht

import (
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/pilot-agents/pilot/addressing"
)

// FuzzDecodeProfileRecord feeds arbitrary keys and values to the profile
// decoder: it must never panic, and anything it accepts must be within
// every limit and signed by a key of the address in the key.
func FuzzDecodeProfileRecord(f *testing.F) {
	priv, _ := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(make([]byte, 32)))
	a, _ := addressing.FromPublicKey(priv.GetPublic())
	good, err := SignProfile(priv, testProfile, 42)
	if err != nil {
		f.Fatal(err)
	}
	blank, err := SignProfile(priv, ProfileInfo{}, 43)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ProfileKey(a), good)
	f.Add(ProfileKey(a), blank)
	f.Add(ProfileKey(a), []byte{})
	f.Add("/pilot/profile/zz", good)
	f.Add(ProfileKey(a), good[:len(good)/2])
	f.Add(ProfileKey(a), signedAddrRecordForFuzz(f, priv))
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		rec, err := DecodeProfileRecord(key, value, now)
		if err != nil {
			return
		}
		got, err := addressing.FromPeerID(rec.PeerID)
		if err != nil || got != rec.Addr || ProfileKey(got) != key {
			t.Fatalf("accepted a profile for %s under %q from peer %s", got, key, rec.PeerID)
		}
		if rec.Seq == 0 || len(value) > MaxProfileSize {
			t.Fatalf("accepted out-of-bounds record %+v", rec)
		}
		if err := rec.Info.Validate(); err != nil {
			t.Fatalf("accepted an invalid profile: %v", err)
		}
		if rec.Info.Hostname != "" && ValidHostname(rec.Info.Hostname) != nil {
			t.Fatalf("accepted hostname %q", rec.Info.Hostname)
		}
	})
}

func signedAddrRecordForFuzz(f *testing.F, priv crypto.PrivKey) []byte {
	b, err := SignAddrRecord(priv, testAddrs, 42)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzProfileUnmarshal checks the payload decoder alone, which
// record.ConsumeEnvelope calls for any envelope of the profile type.
func FuzzProfileUnmarshal(f *testing.F) {
	p := Profile{ProfileInfo: testProfile, Seq: 7}
	b, err := p.MarshalRecord()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"ports":[70000]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Profile
		if err := p.UnmarshalRecord(b); err != nil {
			return
		}
		if _, err := p.MarshalRecord(); err != nil {
			t.Fatalf("decoded profile does not encode: %v", err)
		}
	})
}
