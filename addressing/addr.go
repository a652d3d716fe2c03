// Package addressing defines Pilot's 48-bit agent address: the first 48 bits
// of SHA-256 over an agent's marshalled libp2p public key.
//
// An Addr is a short, stable, human-friendly handle ("3f2a.91c0.7d14"), not an
// identity: two keys may collide (a random collision needs about 2^24 nodes)
// and every session still authenticates the full peer ID. The package imports
// nothing else of Pilot's.
package addressing

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Size is the length of an address in bytes (48 bits).
const Size = 6

// Addr is a 48-bit Pilot address. The zero value is not a valid address of
// any key in practice and is reported by IsZero.
type Addr [Size]byte

// ErrInvalid is wrapped by every parse error, so callers can branch on it.
var ErrInvalid = errors.New("invalid pilot address")

// FromPublicKey derives the address of pub: the first 48 bits of
// SHA-256(crypto.MarshalPublicKey(pub)).
func FromPublicKey(pub crypto.PubKey) (Addr, error) {
	if pub == nil {
		return Addr{}, errors.New("addressing: nil public key")
	}
	raw, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		return Addr{}, fmt.Errorf("addressing: marshal public key: %w", err)
	}
	return FromMarshalledKey(raw), nil
}

// FromMarshalledKey derives the address from a key already in
// crypto.MarshalPublicKey form.
func FromMarshalledKey(raw []byte) Addr {
	sum := sha256.Sum256(raw)
	var a Addr
	copy(a[:], sum[:Size])
	return a
}

// FromPeerID derives the address of the key embedded in id. It works for
// peer IDs that inline their public key (Ed25519, secp256k1); for others use
// FromPublicKey with the key from the peerstore.
func FromPeerID(id peer.ID) (Addr, error) {
	pub, err := id.ExtractPublicKey()
	if err != nil {
		return Addr{}, fmt.Errorf("addressing: public key of %s: %w", id, err)
	}
	return FromPublicKey(pub)
}

// Matches reports whether pub hashes to a.
func (a Addr) Matches(pub crypto.PubKey) bool {
	b, err := FromPublicKey(pub)
	return err == nil && b == a
}

// IsZero reports whether a is the zero address.
func (a Addr) IsZero() bool { return a == Addr{} }

// Hex returns the 12 lowercase hex digits without dots, the form used in DHT
// record keys.
func (a Addr) Hex() string { return hex.EncodeToString(a[:]) }

// String returns the text form: three dot-separated groups of four lowercase
// hex digits, e.g. "3f2a.91c0.7d14".
func (a Addr) String() string {
	var buf [14]byte
	h := a.Hex()
	copy(buf[0:4], h[0:4])
	buf[4] = '.'
	copy(buf[5:9], h[4:8])
	buf[9] = '.'
	copy(buf[10:14], h[8:12])
	return string(buf[:])
}

// MarshalText implements encoding.TextMarshaler (the dotted form).
func (a Addr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts what Parse
// accepts.
func (a *Addr) UnmarshalText(b []byte) error {
	p, err := Parse(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}
