package reputation

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Key layout. Every key starts with "/polo/"; a peer ID inside a key is
// written as one length byte and the ID's bytes (≤ MaxPeerIDLen), so one
// peer's keys never share a prefix with another's; integers are big-endian.
//
//	/polo/a/<id>                            the attestation's encoding
//	/polo/x/<id>                            ID index; value: indexMeta
//	/polo/s/<subject>/<issuedAt ms>/<id>    by subject; empty value
//	/polo/i/<issuer>/<issuedAt ms>/<id>     by issuer; empty value
//	/polo/q/<issuer><subject>               last stored Seq of the pair
//	/polo/t/<issuer><subject><task hash>    ID that attested the task
//	/polo/r/<issuer><window number>         attestations stored in window
//
// Prune deletes the a, x, s and i keys of expired attestations and old rate
// windows; it keeps q and t, so sequence and task-replay checks outlive it.
const (
	keyPrefix     = "/polo/"
	prefixRaw     = keyPrefix + "a/"
	prefixID      = keyPrefix + "x/"
	prefixSubject = keyPrefix + "s/"
	prefixIssuer  = keyPrefix + "i/"
	prefixSeq     = keyPrefix + "q/"
	prefixTask    = keyPrefix + "t/"
	prefixRate    = keyPrefix + "r/"
)

// key concatenates parts into a new key.
func key(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// peerPart is a peer ID as written inside a key.
func peerPart(p peer.ID) []byte {
	return append([]byte{byte(len(p))}, p...)
}

func u64Part(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func rawKey(id [32]byte) []byte { return key([]byte(prefixRaw), id[:]) }
func idKey(id [32]byte) []byte  { return key([]byte(prefixID), id[:]) }

// subjectPrefix is the prefix of every by-subject key of p.
func subjectPrefix(p peer.ID) []byte {
	return key([]byte(prefixSubject), peerPart(p), []byte("/"))
}

// issuerPrefix is the prefix of every by-issuer key of p.
func issuerPrefix(p peer.ID) []byte {
	return key([]byte(prefixIssuer), peerPart(p), []byte("/"))
}

// timeIDSuffix is the "<issuedAt ms>/<id>" tail of by-subject and by-issuer
// keys.
func timeIDSuffix(issuedAt time.Time, id [32]byte) []byte {
	return key(u64Part(uint64(issuedAt.UnixMilli())), []byte("/"), id[:])
}

func seqKey(issuer, subject peer.ID) []byte {
	return key([]byte(prefixSeq), peerPart(issuer), peerPart(subject))
}

func taskKey(issuer, subject peer.ID, task [32]byte) []byte {
	return key([]byte(prefixTask), peerPart(issuer), peerPart(subject), task[:])
}

func rateKey(issuer peer.ID, window int64) []byte {
	return key([]byte(prefixRate), peerPart(issuer), u64Part(uint64(window)))
}

// idFromKey returns the ID that ends an index key.
func idFromKey(k []byte) ([32]byte, bool) {
	var id [32]byte
	if len(k) < len(id) {
		return id, false
	}
	copy(id[:], k[len(k)-len(id):])
	return id, true
}

// windowOf numbers the rate window holding t: floor(unix ms / window ms).
func windowOf(t time.Time, window time.Duration) int64 {
	w := window.Milliseconds()
	if w < 1 {
		w = 1
	}
	ms := t.UnixMilli()
	n := ms / w
	if ms%w < 0 {
		n--
	}
	return n
}

// indexMeta is the value of an ID index key: what Prune needs to find and
// delete an attestation's keys without decoding it.
type indexMeta struct {
	issuer, subject  peer.ID
	issuedAt, expiry time.Time
}

const indexMetaVersion = 1

func (m indexMeta) marshal() []byte {
	b := make([]byte, 0, 1+16+2+len(m.issuer)+len(m.subject))
	b = append(b, indexMetaVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(m.issuedAt.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(m.expiry.UnixMilli()))
	b = append(b, peerPart(m.issuer)...)
	return append(b, peerPart(m.subject)...)
}

func unmarshalIndexMeta(b []byte) (indexMeta, error) {
	if len(b) < 17 || b[0] != indexMetaVersion {
		return indexMeta{}, errors.New("reputation: index meta: bad header")
	}
	m := indexMeta{
		issuedAt: fromMillis(int64(binary.BigEndian.Uint64(b[1:9]))),
		expiry:   fromMillis(int64(binary.BigEndian.Uint64(b[9:17]))),
	}
	rest := b[17:]
	for _, dst := range []*peer.ID{&m.issuer, &m.subject} {
		if len(rest) < 1 || int(rest[0]) > len(rest)-1 || rest[0] == 0 || int(rest[0]) > MaxPeerIDLen {
			return indexMeta{}, fmt.Errorf("reputation: index meta: bad peer ID length")
		}
		n := int(rest[0])
		*dst = peer.ID(rest[1 : 1+n])
		rest = rest[1+n:]
	}
	if len(rest) != 0 {
		return indexMeta{}, errors.New("reputation: index meta: trailing bytes")
	}
	return m, nil
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
