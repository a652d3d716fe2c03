package swarmkey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// Size is the length of a swarm key in bytes.
const Size = 32

// Key is the 32-byte pre-shared key of a swarm. It is a secret: fmt prints
// it as String (with any verb), never as bytes.
type Key [Size]byte

// idDomain separates the swarm ID from any other hash of the key.
const idDomain = "pilot/swarm-id/v1\x00"

// Generate returns a new random key from crypto/rand.
func Generate() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("swarmkey: generate: %w", err)
	}
	return k, nil
}

// Bytes returns a copy of the key, for libp2p.PrivateNetwork (a pnet.PSK is
// a []byte).
func (k Key) Bytes() []byte {
	return append([]byte(nil), k[:]...)
}

// ID returns the public short name of the swarm, which is what `pilot
// status` shows: the first 6 bytes of SHA-256("pilot/swarm-id/v1\x00" ||
// key) as 12 lowercase hex digits. It does not reveal the key (as long as
// the key is random, see Generate, and not a guessable password), and it
// names a swarm rather than authenticating it: only the key does that.
func (k Key) ID() string {
	h := sha256.New()
	h.Write([]byte(idDomain))
	h.Write(k[:])
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// ProtocolPrefix returns the DHT protocol prefix of the swarm,
// "/pilot/swarm/<ID>".
func (k Key) ProtocolPrefix() string {
	return "/pilot/swarm/" + k.ID()
}

// Namespace returns "swarm-<ID>", the swarm's name in gossip topics and in
// the mDNS service name.
func (k Key) Namespace() string {
	return "swarm-" + k.ID()
}

// String returns "swarm <ID>", never the key, so a Key is safe to log.
func (k Key) String() string {
	return "swarm " + k.ID()
}

// GoString returns String, so %#v does not print the key either.
func (k Key) GoString() string {
	return k.String()
}

// Format implements fmt.Formatter: every verb (%v, %+v, %#v, %s, %q, %x,
// %d, ...) prints String. Without it, %x and %d would print the bytes of
// the array.
func (k Key) Format(f fmt.State, _ rune) {
	io.WriteString(f, k.String())
}

// isZero reports whether k is all zeros, which no generated key is.
func (k Key) isZero() bool {
	return k == Key{}
}
