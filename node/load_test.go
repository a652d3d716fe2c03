package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/ports"
)

// loadProfile is the size of TestLoadEcho: peers nodes, each holding
// perPeer echo streams to the victim at once, each stream making
// roundTrips round trips of payload bytes. The full profile, 1,000
// streams from 50 peers, takes about 11 s on an idle 2-core machine, so
// it is also the CI profile. The race detector makes it take 90 s, so
// under -race the test runs 10 peers (200 streams), unless PILOT_LONG=1
// asks for the full profile.
type loadProfile struct {
	peers, perPeer, roundTrips, payload int
}

func currentLoadProfile() loadProfile {
	p := loadProfile{peers: 50, perPeer: 20, roundTrips: 20, payload: 1 << 10}
	if raceEnabled && os.Getenv("PILOT_LONG") != "1" {
		p.peers = 10
	}
	return p
}

// TestLoadEcho: one victim daemon (its own process, the daemon's default
// resource figures) serves 1,000 echo streams at once from 50 peers (50
// real nodes on loopback, 20 streams each, all open together; 200 from
// 10 under -race, see loadProfile), each
// making a bounded number of round trips, without a single error and
// within the resource manager's limits (rcmgr.go). The victim's heap and
// goroutines are sampled after a GC before, during (all streams open),
// and after (all closed): after, they come back near the start.
func TestLoadEcho(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node load test")
	}
	checkLeaks(t)
	prof := currentLoadProfile()
	total := prof.peers * prof.perPeer
	v := startVictim(t)
	target, err := addressing.Parse(v.info.Addr)
	require.NoError(t, err)

	start := time.Now()
	peers := startPeers(t, prof.peers, v.info.Join)
	t.Logf("%d peers started in %s", len(peers), time.Since(start).Round(time.Millisecond))
	defer func() {
		for _, p := range peers {
			require.NoError(t, p.Close())
		}
	}()
	ctx := context.Background()
	// The victim published its record alone; again, now that peers can
	// hold it. Every peer then resolves and reaches the victim once (the
	// connection and the DHT's pin are part of the baseline, not of the
	// load), and protects that connection from its connection manager:
	// 51 nodes in a DHT mesh go past a testnet node's high water (64), and
	// a trim could drop the victim.
	v.publish(t)
	victimID, err := peer.Decode(v.info.PeerID)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() {
			eventually(t, time.Minute, func() error {
				ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				_, _, err := p.Echo(ectx, target, "warm up")
				return err
			})
			p.Host().ConnManager().Protect(victimID, "load-test")
		})
	}
	wg.Wait()
	t.Logf("every peer reached the victim after %s", time.Since(start).Round(time.Millisecond))
	before := v.sample(t)
	t.Logf("victim before: %v", before)
	require.Zero(t, before.EchoIn)

	// Open every stream; all must be open before any works.
	openStart := time.Now()
	conns := make([]*ports.Conn, total)
	errs := make([]error, total)
	for i := range total {
		p := peers[i/prof.perPeer]
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			conns[i], errs[i] = p.DialAddr(dctx, target, ports.PortEcho)
		})
	}
	wg.Wait()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	require.NoError(t, errors.Join(errs...), "opening %d streams", total)
	opened := v.sample(t)
	t.Logf("victim with %d streams open (%s to open them): %v", total, time.Since(openStart).Round(time.Millisecond), opened)
	require.Equal(t, total, opened.EchoIn, "the victim holds every stream at once")

	// Every stream makes its round trips, all at the same time.
	var served, bytesEchoed atomic.Int64
	for i, c := range conns {
		wg.Go(func() {
			errs[i] = roundTrips(c, i, prof.roundTrips, prof.payload)
			if errs[i] == nil {
				served.Add(1)
				bytesEchoed.Add(int64(prof.roundTrips * prof.payload))
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	during := v.sample(t)
	t.Logf("victim during (all %d streams open, %d round trips done, %s since the first opened): %v", total, total*prof.roundTrips, time.Since(openStart).Round(time.Millisecond), during)
	require.Equal(t, total, during.EchoIn)

	// Close them all, each after the victim's end of the echo is done.
	for i, c := range conns {
		wg.Go(func() { errs[i] = finishEcho(c) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	var after victimSample
	eventually(t, time.Minute, func() error {
		after = v.sample(t)
		if after.EchoIn != 0 {
			return fmt.Errorf("the victim still holds %d echo streams", after.EchoIn)
		}
		if lim := before.Goroutines + before.Goroutines/2; after.Goroutines > lim {
			return fmt.Errorf("the victim runs %d goroutines, over %d (1.5x the %d before)", after.Goroutines, lim, before.Goroutines)
		}
		if lim := 2 * before.HeapAlloc; after.HeapAlloc > lim {
			return fmt.Errorf("the victim's heap is %.1f MiB, over %.1f MiB (2x the %.1f MiB before)", mib(after.HeapAlloc), mib(lim), mib(before.HeapAlloc))
		}
		return nil
	})
	t.Logf("victim after: %v (%s since start)", after, time.Since(start).Round(time.Millisecond))
	t.Logf("load: %d peers x %d streams = %d streams served at once, %d round trips of %d bytes each, %.1f MiB echoed; "+
		"victim heap before/during/after %.1f/%.1f/%.1f MiB, goroutines %d/%d/%d",
		prof.peers, prof.perPeer, served.Load(), prof.roundTrips, prof.payload, mib(uint64(bytesEchoed.Load())),
		mib(before.HeapAlloc), mib(during.HeapAlloc), mib(after.HeapAlloc), before.Goroutines, during.Goroutines, after.Goroutines)
	require.Equal(t, int64(total), served.Load())
	require.GreaterOrEqual(t, after.Peers, len(peers), "the peers are still connected")

	for _, p := range peers {
		require.NoError(t, p.Close())
	}
	v.stop(t)
	t.Logf("peers and victim closed %s after start", time.Since(start).Round(time.Millisecond))
}

// startPeers starts n testnet nodes that bootstrap from join.
func startPeers(t *testing.T, n int, join []string) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		cfg := TestnetConfig()
		cfg.Bootstrap = join
		nd, err := New(cfg)
		require.NoError(t, err)
		nodes[i] = nd
		t.Cleanup(func() { nd.Close() })
		wg.Go(func() { errs[i] = nd.Start(context.Background()) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return nodes
}

// roundTrips writes n payloads of size bytes on c, each distinct, and
// reads each back before the next.
func roundTrips(c *ports.Conn, id, n, size int) error {
	if err := c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		return err
	}
	out, in := make([]byte, size), make([]byte, size)
	for r := range n {
		for k := range out {
			out[k] = byte(id + r + k)
		}
		if _, err := c.Write(out); err != nil {
			return fmt.Errorf("stream %d round %d: write: %w", id, r, err)
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return fmt.Errorf("stream %d round %d: read: %w", id, r, err)
		}
		if !bytes.Equal(in, out) {
			return fmt.Errorf("stream %d round %d: echoed bytes differ", id, r)
		}
	}
	return nil
}

// finishEcho ends an echo stream: close our side, read the victim's EOF.
func finishEcho(c *ports.Conn) error {
	defer c.Close()
	if err := c.CloseWrite(); err != nil {
		return err
	}
	rest, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return fmt.Errorf("%d unexpected bytes after the last round trip", len(rest))
	}
	return nil
}
