package gossip

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// testTimeout bounds every wait of these tests; generous for -race on a
// loaded 2-core machine.
const testTimeout = 20 * time.Second

// checkLeaks makes the test fail if goroutines started during it outlive
// it. Call it first: its cleanup then runs after every other cleanup.
func checkLeaks(t testing.TB) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// newHost starts a libp2p host on loopback TCP only.
func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.Close() })
	return h
}

// fastConfig is the default configuration with a short gossipsub heartbeat,
// so meshes form in a fraction of a second.
func fastConfig() Config {
	p := pubsub.DefaultGossipSubParams()
	p.HeartbeatInterval = 100 * time.Millisecond
	return Config{Params: &p}
}

// newPubSub starts gossip on h; it is closed (before h) when the test ends.
func newPubSub(t testing.TB, h host.Host, cfg Config) *PubSub {
	t.Helper()
	ps, err := New(context.Background(), h, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ps.Close()) })
	return ps
}

// connect dials b from a directly.
func connect(t testing.TB, a, b host.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	require.NoError(t, a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}))
}

// waitCtx is a context bounded by testTimeout.
func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds, failing the test at testTimeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// next receives one event within testTimeout.
func next(t testing.TB, s *Subscription) Event {
	t.Helper()
	ev, err := s.Next(waitCtx(t))
	require.NoError(t, err)
	return ev
}
