package node

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startMesh starts n testnet nodes on loopback; node 0 is the first node
// and every other node bootstraps from it. Nodes are closed at cleanup.
func startMesh(tb testing.TB, n int) []*Node {
	return startMeshWith(tb, n, TestnetConfig)
}

// startMeshWith is startMesh with another base configuration.
func startMeshWith(tb testing.TB, n int, base func() Config) []*Node {
	tb.Helper()
	ctx := context.Background()
	nodes := make([]*Node, n)
	first, err := New(base())
	require.NoError(tb, err)
	require.NoError(tb, first.Start(ctx))
	nodes[0] = first
	tb.Cleanup(func() { first.Close() })
	join := first.JoinAddrs()
	require.NotEmpty(tb, join)

	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 1; i < n; i++ {
		cfg := base()
		cfg.Bootstrap = join
		nd, err := New(cfg)
		require.NoError(tb, err)
		nodes[i] = nd
		tb.Cleanup(func() { nd.Close() })
		wg.Go(func() { errs[i] = nd.Start(ctx) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(tb, err, "node %d", i)
	}
	return nodes
}

// eventually retries f until it succeeds or the deadline passes.
func eventually(tb testing.TB, timeout time.Duration, f func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	backoff := 20 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %s: %v", timeout, err)
		}
		timer := time.NewTimer(backoff)
		<-timer.C
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

func TestMeshEveryNodeResolvesAndPingsEveryOther(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	const n = 20
	nodes := startMesh(t, n)
	ctx := context.Background()

	for _, nd := range nodes {
		require.Equal(t, "server", string(nd.DHT().Mode()))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n*n)
	for i, from := range nodes {
		wg.Go(func() {
			for j, to := range nodes {
				if i == j {
					continue
				}
				var lastErr error
				eventually(t, 60*time.Second, func() error {
					res, err := from.Resolve(ctx, to.Addr())
					if err != nil {
						lastErr = err
						return err
					}
					if res.Record.PeerID != to.PeerID() {
						return fmt.Errorf("%s resolved to %s, want %s", to.Addr(), res.Record.PeerID, to.PeerID())
					}
					return nil
				})
				st, err := from.Ping(ctx, to.Addr(), 1)
				if err != nil {
					errs <- fmt.Errorf("node %d ping %d: %w (last resolve error %v)", i, j, err, lastErr)
					continue
				}
				if len(st.RTTs) != 1 || st.Relayed {
					errs <- fmt.Errorf("node %d ping %d: %+v", i, j, st)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, nd := range nodes {
		require.NoError(t, nd.Close())
	}
}

func TestResolveUnknownAddressIsNotFoundInBoundedTime(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	nodes := startMesh(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := nodes[1].Resolve(ctx, mustAddr("0000.0000.0001"))
	require.ErrorIs(t, err, dhtErrNotFound)
	require.NoError(t, ctx.Err(), "resolution must end on its own, not by our deadline")
	for _, nd := range nodes {
		require.NoError(t, nd.Close())
	}
}

// TestPrivateLoopbackMeshFormsWorkingDHT: nodes that are neither anchors
// nor --public, all on loopback (no public node anywhere), must still form
// a DHT that answers queries, not a mesh of clients that fails every one
// with "failed to find any peer in table": the first node serves it.
func TestPrivateLoopbackMeshFormsWorkingDHT(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	nodes := startMeshWith(t, 5, func() Config {
		cfg := TestnetConfig()
		cfg.Public, cfg.DHTMode = false, "" // the daemon's defaults
		return cfg
	})
	ctx := context.Background()
	require.Equal(t, "server", string(nodes[0].DHT().Mode()), "the first node serves")
	for _, nd := range nodes[1:] {
		require.Equal(t, "client", string(nd.DHT().Mode()), "private joiners are clients")
	}
	for i, from := range nodes {
		to := nodes[(i+1)%len(nodes)]
		eventually(t, 30*time.Second, func() error { _, err := from.Resolve(ctx, to.Addr()); return err })
	}
	for _, nd := range nodes {
		require.NoError(t, nd.Close())
	}
}
