package node

import (
	"testing"

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

// checkLeaks fails the test if goroutines it started outlive it. It runs
// as the test's last cleanup, after the nodes the test closes in defers
// and later cleanups have stopped, and only when everything else passed:
// a failed test leaves goroutines behind by nature, and their dump would
// bury the first error.
func checkLeaks(t *testing.T) {
	t.Helper()
	opts := leakOptions() // IgnoreCurrent: the goroutines running now
	t.Cleanup(func() {
		if !t.Failed() {
			goleak.VerifyNone(t, opts...)
		}
	})
}

func marshalKey(k crypto.PrivKey) ([]byte, error) { return crypto.MarshalPrivateKey(k) }
