package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRelayCarriesRealSessions: between two untrusted private nodes the
// only path is the anchor's relay, and it must carry real sessions, not
// go-libp2p's default 128 KiB per circuit: 32 MiB arrive intact.
func TestRelayCarriesRealSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	anchor, b, c := privateTrio(t)
	ctx := context.Background()

	const port, size = 5555, 32 << 20
	require.NoError(t, b.SetPortPublic(port, true))
	l, err := b.Listen(port)
	require.NoError(t, err)
	defer l.Close()
	sums := make(chan [32]byte, 1)
	go func() {
		conn, err := l.AcceptConn()
		if err != nil {
			close(sums)
			return
		}
		defer conn.Close()
		h := sha256.New()
		_, _ = io.Copy(h, conn)
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		sums <- sum
		_ = conn.CloseWrite()
	}()

	conn, err := c.DialAddr(ctx, b.Addr(), port)
	require.NoError(t, err)
	require.True(t, conn.Relayed(), "untrusted private nodes meet on the relay")
	h := sha256.New()
	_, err = io.Copy(conn, io.TeeReader(io.LimitReader(rand.Reader, size), h))
	require.NoError(t, err)
	require.NoError(t, conn.CloseWrite())
	got, ok := <-sums
	require.True(t, ok)
	require.Equal(t, h.Sum(nil), got[:], "32 MiB over the relay, intact")
	conn.Close()
	for _, n := range []*Node{c, b, anchor} {
		require.NoError(t, n.Close())
	}
}

// TestRelayFoundInDHT: a private node configured with one anchor also
// reserves on a second anchor it only meets in the DHT - the keeper's
// second peer source - so losing one relay does not make it unreachable.
func TestRelayFoundInDHT(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	start := func(cfg Config) *Node {
		n, err := New(cfg)
		require.NoError(t, err)
		require.NoError(t, n.Start(ctx))
		return n
	}
	acfg := TestnetConfig()
	acfg.Anchor = true
	a1 := start(acfg)
	acfg.Bootstrap = a1.JoinAddrs()
	a2 := start(acfg)
	cfg := TestnetConfig()
	cfg.Public, cfg.DHTMode = false, ""
	cfg.Bootstrap = a1.JoinAddrs()
	cfg.relayDiscoverEvery = 200 * time.Millisecond
	n := start(cfg)
	eventually(t, 30*time.Second, func() error {
		got := n.RelayReservations()
		if !containsPeer(got, a1.PeerID()) || !containsPeer(got, a2.PeerID()) {
			return fmt.Errorf("reservations on %v, want both anchors", got)
		}
		return nil
	})
	require.Len(t, n.RelayReservations(), wantRelays, "no more than it wants")
	for _, x := range []*Node{n, a2, a1} {
		require.NoError(t, x.Close())
	}
}
