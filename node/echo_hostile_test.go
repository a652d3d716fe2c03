package node

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

// TestHostileEchoIdleAndLifetime: the echo service closes a stream on
// which nothing arrives for echoIdle, keeps a busy stream past echoIdle,
// and closes even a busy stream at echoLifetime. (TestLoadEcho found the
// old fixed 30 s deadline cutting streams in use when 1,000 of them
// shared a loaded 2-core machine.)
func TestHostileEchoIdleAndLifetime(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	idle, lifetime := echoIdle, echoLifetime
	echoIdle, echoLifetime = time.Second, 4*time.Second // read when the victim starts
	defer func() { echoIdle, echoLifetime = idle, lifetime }()
	nodes := startMesh(t, 2)
	victim, peer := nodes[0], nodes[1]
	require.NoError(t, victim.SetPortPublic(ports.PortEcho, true))
	ctx := context.Background()
	eventually(t, 30*time.Second, func() error { _, err := peer.Resolve(ctx, victim.Addr()); return err })

	// Idle: the victim ends the stream by itself.
	c, err := peer.DialAddr(ctx, victim.Addr(), ports.PortEcho)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(30*time.Second)))
	_, err = c.Read(make([]byte, 1))
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the victim left an idle echo stream open")
	require.Error(t, err)
	c.Close()

	// Busy: one-byte round trips without pause live past echoIdle, and
	// end at echoLifetime (well before maxEcho bytes).
	c, err = peer.DialAddr(ctx, victim.Addr(), ports.PortEcho)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(30*time.Second)))
	start := time.Now()
	rounds := 0
	b := []byte{0}
	for {
		if _, err = c.Write(b); err == nil {
			_, err = io.ReadFull(c, b)
		}
		if err != nil {
			break
		}
		rounds++
	}
	lived := time.Since(start)
	t.Logf("busy echo stream: %d round trips over %s (idle %s, lifetime %s), ended by %v", rounds, lived.Round(time.Millisecond), echoIdle, echoLifetime, err)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the victim did not end a stream past its lifetime")
	require.Less(t, rounds, maxEcho, "ended by the lifetime, not the byte cap")
	require.GreaterOrEqual(t, lived, 2*echoIdle, "a busy stream outlives the idle timeout")
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}
