package node

import (
	"bytes"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

// FuzzReadAddrs feeds arbitrary bytes to the addrs-protocol decoder: it
// must never panic, never return more than the limit, and never return a
// relay address or one that does not round-trip.
func FuzzReadAddrs(f *testing.F) {
	var good bytes.Buffer
	_ = writeAddrs(&good, []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4410"), ma.StringCast("/ip6/::1/udp/4410/quic-v1")})
	f.Add(good.Bytes())
	f.Add([]byte{})
	f.Add([]byte{255})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		addrs, err := readAddrs(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(addrs) > maxDirectAddrs {
			t.Fatalf("%d addresses", len(addrs))
		}
		for _, a := range addrs {
			if isCircuit(a) {
				t.Fatalf("relay address %s accepted", a)
			}
			if _, err := ma.NewMultiaddrBytes(a.Bytes()); err != nil {
				t.Fatalf("%s does not round-trip: %v", a, err)
			}
		}
	})
}
