package peerbook

import (
	"bytes"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
)

// FuzzDecodeEntry: decodeEntry never panics, and what it accepts is a
// valid entry whose encoding is exactly the input (the encoding is
// canonical).
func FuzzDecodeEntry(f *testing.F) {
	id := newID(f)
	addrs := []string{
		"/ip4/192.0.2.1/udp/4001/quic-v1",
		"/ip6/2001:db8::1/tcp/4001",
		"/dns4/example.com/tcp/443/wss",
		"/ip4/10.0.0.1/udp/4001/quic-v1/webtransport",
	}
	var seeds [][]byte
	for i := range addrs {
		e := Entry{ID: id, LastSeen: time.Unix(1_700_000_000, int64(i)), Server: i%2 == 0}
		for _, s := range addrs[:i+1] {
			e.Addrs = append(e.Addrs, addr(f, s))
		}
		v, err := encodeEntry(e)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, v)
	}
	key := entryKey(id)
	for _, v := range seeds {
		for n := 0; n <= len(v); n++ {
			f.Add(key, v[:n])
		}
		f.Add(key, append(bytes.Clone(v), 0))
		f.Add(key[:len(key)-1], v)
		f.Add([]byte(keyPrefix), v)
	}

	f.Fuzz(func(t *testing.T, key, value []byte) {
		e, err := decodeEntry(key, value)
		if err != nil {
			return
		}
		if err := validate(e); err != nil {
			t.Fatalf("decoded entry does not validate: %v", err)
		}
		v, err := encodeEntry(e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		if !bytes.Equal(v, value) {
			t.Fatalf("not canonical:\n in  %x\n out %x", value, v)
		}
		if !bytes.Equal(entryKey(e.ID), key) {
			t.Fatalf("key not canonical:\n in  %x\n out %x", key, entryKey(e.ID))
		}
		for _, a := range e.Addrs {
			if _, err := ma.NewMultiaddrBytes(a.Bytes()); err != nil {
				t.Fatalf("address %s does not parse back: %v", a, err)
			}
		}
	})
}
