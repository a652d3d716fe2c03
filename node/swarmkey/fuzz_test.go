package swarmkey_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/pnet"

	"github.com/pilot-agents/pilot/node/swarmkey"
)

// FuzzParse checks that Parse never panics, that its errors wrap ErrInvalid
// and stay short (they must not echo the input), and that whatever it
// accepts Encode turns back into the same key, which go-libp2p's decoder
// reads the same way.
func FuzzParse(f *testing.F) {
	for _, file := range handFiles {
		f.Add([]byte(file))
	}
	for _, bad := range []string{
		"",
		"/key/swarm/psk/1.0.0/",
		"/key/swarm/psk/1.0.0/\n/base32/\nabc\n",
		"/key/swarm/psk/1.0.0/ " + handHex + "\n/base16/\n",
		"/key/swarm/psk/1.0.0/\n/base16/\n" + handHex[:63] + "\n",
		"/key/swarm/psk/1.0.0/\n/base16/\n" + handHex + "ab\n",
		"/key/swarm/psk/1.0.0/\n/base64/\nNNw+cZJUPl8/LkahigETtbuB/VFhfK58fliRd8ECYQ==\n",
		"/key/swarm/psk/1.0.0/\n/bin/\n" + strings.Repeat("x", 31),
		handBase16 + "hello\n",
		handHex + "\n",
	} {
		f.Add([]byte(bad))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := swarmkey.Parse(in)
		if err != nil {
			if !errors.Is(err, swarmkey.ErrInvalid) || !strings.HasPrefix(err.Error(), "swarmkey: ") {
				t.Fatalf("error %q does not wrap ErrInvalid", err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error too long (echoing input?): %q", err)
			}
			return
		}
		if len(k.Bytes()) != swarmkey.Size {
			t.Fatalf("key is %d bytes", len(k.Bytes()))
		}
		again, err := swarmkey.Parse(k.Encode())
		if err != nil || again != k {
			t.Fatalf("Encode does not round-trip: %v", err)
		}
		psk, err := pnet.DecodeV1PSK(bytes.NewReader(in))
		if err != nil || !bytes.Equal(psk, k.Bytes()) {
			t.Fatalf("go-libp2p decodes %q differently (err %v)", in, err)
		}
	})
}
