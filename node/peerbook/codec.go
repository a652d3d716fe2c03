package peerbook

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// keyPrefix starts every key of the book; the raw peer ID bytes follow.
const keyPrefix = "peerbook/"

// Value encoding, version 1 (all integers big-endian):
//
//	version   1 byte   codecVersion
//	flags     1 byte   bit 0: Server; other bits 0
//	lastSeen  8 bytes  Unix nanoseconds, int64, > 0
//	count     1 byte   number of addresses, 1 to MaxAddrs
//	count times:
//	  length  2 bytes  1 to MaxAddrLen
//	  addr    length bytes, binary multiaddr
//
// The value is exactly that long. The peer ID is the key's.
const (
	codecVersion = 1
	flagServer   = 1 << 0
	headerLen    = 1 + 1 + 8 + 1
)

// entryKey is the Badger key of id's entry.
func entryKey(id peer.ID) []byte {
	return append([]byte(keyPrefix), id...)
}

// encodeEntry validates e and returns its stored value. The error wraps
// ErrInvalid.
func encodeEntry(e Entry) ([]byte, error) {
	if err := validate(e); err != nil {
		return nil, err
	}
	size := headerLen
	for _, a := range e.Addrs {
		size += 2 + len(a.Bytes())
	}
	v := make([]byte, headerLen, size)
	v[0] = codecVersion
	if e.Server {
		v[1] = flagServer
	}
	binary.BigEndian.PutUint64(v[2:10], uint64(e.LastSeen.UnixNano()))
	v[10] = byte(len(e.Addrs))
	for _, a := range e.Addrs {
		b := a.Bytes()
		v = binary.BigEndian.AppendUint16(v, uint16(len(b)))
		v = append(v, b...)
	}
	return v, nil
}

// decodeEntry parses a stored entry: the peer ID from key, the rest from
// value. It accepts only what encodeEntry produces for a valid entry; every
// length is checked before anything is allocated, and the result shares no
// memory with key or value. The error wraps ErrInvalid.
func decodeEntry(key, value []byte) (Entry, error) {
	if !bytes.HasPrefix(key, []byte(keyPrefix)) {
		return Entry{}, invalid("key does not start with %q", keyPrefix)
	}
	raw := key[len(keyPrefix):]
	if err := checkID(raw); err != nil {
		return Entry{}, err
	}
	if len(value) < headerLen {
		return Entry{}, invalid("value of %d bytes, shorter than the %d-byte header", len(value), headerLen)
	}
	if value[0] != codecVersion {
		return Entry{}, invalid("version %d, want %d", value[0], codecVersion)
	}
	flags := value[1]
	if flags&^flagServer != 0 {
		return Entry{}, invalid("unknown flags %#02x", flags)
	}
	nanos := int64(binary.BigEndian.Uint64(value[2:10]))
	if nanos <= 0 {
		return Entry{}, invalid("LastSeen %d ns, not after 1970", nanos)
	}
	count := int(value[10])
	if count < 1 || count > MaxAddrs {
		return Entry{}, invalid("%d addresses, want 1 to %d", count, MaxAddrs)
	}
	e := Entry{
		ID:       peer.ID(raw), // string conversion copies
		Addrs:    make([]ma.Multiaddr, 0, count),
		LastSeen: time.Unix(0, nanos).UTC(),
		Server:   flags&flagServer != 0,
	}
	rest := value[headerLen:]
	for i := range count {
		if len(rest) < 2 {
			return Entry{}, invalid("address %d: length cut off", i)
		}
		n := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if n < 1 || n > MaxAddrLen {
			return Entry{}, invalid("address %d: %d bytes, want 1 to %d", i, n, MaxAddrLen)
		}
		if len(rest) < n {
			return Entry{}, invalid("address %d: %d bytes, only %d left", i, n, len(rest))
		}
		a, err := checkAddr(rest[:n]) // the multiaddr copies its bytes
		if err != nil {
			return Entry{}, invalid("address %d: %v", i, err)
		}
		e.Addrs = append(e.Addrs, a)
		rest = rest[n:]
	}
	if len(rest) != 0 {
		return Entry{}, invalid("%d trailing bytes", len(rest))
	}
	return e, nil
}
