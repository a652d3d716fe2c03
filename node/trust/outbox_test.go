package trust

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/stretchr/testify/require"
)

// downPeer returns a key whose peer is offline, and teaches n an address
// where nothing listens any more.
func downPeer(t *testing.T, n *node) (keyOf *node, id peer.ID) {
	t.Helper()
	key := newKey(t)
	h := newHost(t, key)
	addrs := h.Addrs()
	require.NoError(t, h.Close())
	n.h.Peerstore().AddAddrs(h.ID(), addrs, peerstore.PermanentAddrTTL)
	return &node{key: key}, h.ID()
}

func (n *node) waitOutbox(pred func([]OutboxEntry) bool) {
	n.t.Helper()
	require.Eventually(n.t, func() bool {
		out, err := n.m.Outbox()
		require.NoError(n.t, err)
		return pred(out)
	}, waitFor, 5*time.Millisecond)
}

func TestOfflinePeerRetried(t *testing.T) {
	checkLeaks(t)
	a := newNode(t, nil, "")
	off, bID := downPeer(t, a)

	rec, err := a.m.Request(bg, bID, "are you there?")
	require.NoError(t, err, "an unreachable peer is not an error: the request is queued")
	require.Equal(t, StateOutgoingPending, rec.State)
	a.waitOutbox(func(o []OutboxEntry) bool {
		return len(o) == 1 && o[0].Peer == bID && o[0].Kind == "request" && o[0].Attempts >= 3
	})
	require.Positive(t, a.m.Stats()["send_failed"])

	b := newNode(t, off.key, "") // same key, new host, new port
	a.know(b)
	b.waitState(a.id, StateIncomingPending)
	got, _, err := b.m.Get(a.id)
	require.NoError(t, err)
	require.Equal(t, "are you there?", got.Message)
	a.waitOutbox(func(o []OutboxEntry) bool { return len(o) == 0 })
}

// directory stands in for the DHT: the Dial hook finds peers in it.
type directory struct {
	mu    sync.Mutex
	peers map[peer.ID]*node
}

func (d *directory) add(n *node) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.peers[n.id] = n
}

func (d *directory) dialHook(c *Config) {
	h := c.Host
	c.Dial = func(ctx context.Context, p peer.ID) error {
		d.mu.Lock()
		n := d.peers[p]
		d.mu.Unlock()
		if n == nil {
			return errors.New("not in the directory")
		}
		return h.Connect(ctx, peer.AddrInfo{ID: p, Addrs: n.h.Addrs()})
	}
}

func TestOutboxSurvivesRestart(t *testing.T) {
	checkLeaks(t)
	dir := &directory{peers: make(map[peer.ID]*node)}
	slow := func(c *Config) { c.RetryInitial, c.RetryMax = time.Hour, time.Hour }
	a := newNode(t, nil, t.TempDir(), slow, dir.dialHook)
	bKey := newKey(t)
	bID, err := peer.IDFromPrivateKey(bKey)
	require.NoError(t, err)

	_, err = a.m.Request(bg, bID, "after the reboot")
	require.NoError(t, err)
	a.waitOutbox(func(o []OutboxEntry) bool { return len(o) == 1 && o[0].Attempts == 1 })
	a.stop()

	// B comes up while A is down; A's next try would be an hour away, but
	// a restart retries every queued message at once.
	b := newNode(t, bKey, "")
	dir.add(b)
	a.start()
	require.Equal(t, StateOutgoingPending, a.state(bID))
	b.waitState(a.id, StateIncomingPending)
	got, _, err := b.m.Get(a.id)
	require.NoError(t, err)
	require.Equal(t, "after the reboot", got.Message)
	a.waitOutbox(func(o []OutboxEntry) bool { return len(o) == 0 })

	// The answer finds its way back to the restarted requester.
	_, err = b.m.Approve(bg, a.id)
	require.NoError(t, err)
	a.waitState(b.id, StateTrusted)
}

func TestOutboxSuperseded(t *testing.T) {
	checkLeaks(t)
	a := newNode(t, nil, "")
	off, bID := downPeer(t, a)
	_, err := a.m.Request(bg, bID, "hello")
	require.NoError(t, err)
	_, err = a.m.Revoke(bg, bID) // withdraw before it was ever delivered
	require.NoError(t, err)
	out, err := a.m.Outbox()
	require.NoError(t, err)
	require.Len(t, out, 1)
	require.Equal(t, "revoke", out[0].Kind)

	b := newNode(t, off.key, "")
	a.know(b)
	a.waitOutbox(func(o []OutboxEntry) bool { return len(o) == 0 })
	require.Equal(t, uint64(1), b.m.Stats()["ignored_revoke"])
	list, err := b.m.List()
	require.NoError(t, err)
	require.Empty(t, list, "the withdrawn request never reached B")
}

// TestCloseCancelsDelivery: Close does not wait for a slow peer.
func TestCloseCancelsDelivery(t *testing.T) {
	checkLeaks(t)
	a := newNode(t, nil, "", func(c *Config) { c.AttemptTimeout = time.Minute })
	hole := newHost(t, newKey(t))
	defer hole.Close()
	entered := make(chan struct{}, 1)
	hole.SetStreamHandler(ProtocolID, func(s network.Stream) {
		entered <- struct{}{}
		_, _ = io.Copy(io.Discard, s) // never acks; returns when reset
		_ = s.Reset()
	})
	a.h.Peerstore().AddAddrs(hole.ID(), hole.Addrs(), peerstore.PermanentAddrTTL)

	done := make(chan error, 1)
	m := a.m
	go func() {
		_, err := m.Request(bg, hole.ID(), "")
		done <- err
	}()
	<-entered
	a.stop()
	require.NoError(t, <-done, "the request is stored and queued")
}

func TestBackoff(t *testing.T) {
	initial, maxWait := time.Second, 5*time.Minute
	for n := 1; n <= 40; n++ {
		want := min(initial<<min(n-1, 30), maxWait)
		for range 50 {
			d := backoff(n, initial, maxWait)
			require.GreaterOrEqual(t, d, want/2, "attempt %d", n)
			require.LessOrEqual(t, d, want, "attempt %d", n)
		}
	}
}
