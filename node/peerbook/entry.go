package peerbook

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// ErrInvalid marks an entry the book refuses to store, or stored bytes it
// refuses to read back. Errors wrapping it say what is wrong.
var ErrInvalid = errors.New("peerbook: invalid entry")

const (
	// MaxAddrs is the most addresses an entry may carry.
	MaxAddrs = 8
	// MaxAddrLen is the longest address, in binary multiaddr bytes.
	MaxAddrLen = 256
	// maxIDLen bounds a peer ID in bytes; real ones are under 50.
	maxIDLen = 128
)

// Entry is one remembered peer.
type Entry struct {
	// ID is the peer.
	ID peer.ID
	// Addrs are direct addresses the peer was reached at, without a
	// /p2p/<id> suffix: 1 to MaxAddrs of them.
	Addrs []ma.Multiaddr
	// LastSeen is when the node last met the peer.
	LastSeen time.Time
	// Server is set when the peer was seen running the DHT in server
	// mode, which makes it a good point to re-join through.
	Server bool
}

// invalid returns an error wrapping ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// validate checks e is an entry the book stores; the error wraps
// ErrInvalid.
func validate(e Entry) error {
	if err := checkID([]byte(e.ID)); err != nil {
		return err
	}
	if err := checkLastSeen(e.LastSeen); err != nil {
		return err
	}
	if n := len(e.Addrs); n < 1 || n > MaxAddrs {
		return invalid("%d addresses, want 1 to %d", n, MaxAddrs)
	}
	for i, a := range e.Addrs {
		if _, err := checkAddr(a.Bytes()); err != nil {
			return invalid("address %d: %v", i, err)
		}
	}
	return nil
}

// checkID checks raw is a peer ID: a multihash of bounded size.
func checkID(raw []byte) error {
	switch {
	case len(raw) == 0:
		return invalid("empty peer ID")
	case len(raw) > maxIDLen:
		return invalid("peer ID of %d bytes, more than %d", len(raw), maxIDLen)
	}
	if _, err := peer.IDFromBytes(raw); err != nil {
		return invalid("peer ID: %v", err)
	}
	return nil
}

// checkLastSeen checks t is set and fits the encoding: after the Unix
// epoch and representable as int64 Unix nanoseconds (before 2262).
func checkLastSeen(t time.Time) error {
	if t.IsZero() {
		return invalid("LastSeen is zero")
	}
	if n := t.UnixNano(); n <= 0 || !time.Unix(0, n).Equal(t) {
		return invalid("LastSeen %s outside 1970 to 2262", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkAddr parses b as a rejoin address: a valid multiaddr of 1 to
// MaxAddrLen bytes, in canonical form, with no /p2p-circuit (a relay
// address is not a rejoin point) and no /p2p component (addresses are
// stored bare; the entry names the peer). Its errors do not wrap
// ErrInvalid: callers add which address it was.
func checkAddr(b []byte) (ma.Multiaddr, error) {
	if len(b) == 0 || len(b) > MaxAddrLen {
		return nil, fmt.Errorf("%d bytes, want 1 to %d", len(b), MaxAddrLen)
	}
	a, err := ma.NewMultiaddrBytes(b)
	if err != nil {
		return nil, err
	}
	if len(a) == 0 || string(a.Bytes()) != string(b) {
		return nil, errors.New("not a canonical multiaddr")
	}
	if has(a, ma.P_CIRCUIT) {
		return nil, errors.New("relay address (/p2p-circuit)")
	}
	if has(a, ma.P_P2P) {
		return nil, errors.New("has a /p2p component (store addresses bare)")
	}
	return a, nil
}

// has reports whether a has a component of protocol code.
func has(a ma.Multiaddr, code int) bool {
	for _, c := range a {
		if c.Code() == code {
			return true
		}
	}
	return false
}
