package node

import (
	"github.com/libp2p/go-libp2p/core/crypto"
	"go.uber.org/goleak"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
)

var dhtErrNotFound = dht.ErrNotFound

func mustAddr(s string) addressing.Addr { return addressing.MustParse(s) }

// leakOptions lists goroutines that outlive a closed node by design of a
// dependency, each with the reason; everything else must be gone.
func leakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreCurrent(),
		// An anchor's AutoNAT service whose dial-back fails waits out its
		// 15 s timeout on purpose (so it cannot serve as a port scanner),
		// even after the host closed; it ends by itself.
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/host/autonat.(*autoNATService).doDial"),
	}
}

func marshalKey(k crypto.PrivKey) ([]byte, error) { return crypto.MarshalPrivateKey(k) }
