package trust

import (
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const waitFor = 15 * time.Second

func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func newKey(t testing.TB) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	return k
}

func newHost(t testing.TB, key crypto.PrivKey) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	return h
}

// openDB opens an in-memory store (dir == "") or an on-disk one, small.
func openDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	const memTable = 1 << 20
	opts := badger.DefaultOptions(dir).WithLogger(nil).
		WithMemTableSize(memTable).WithValueThreshold(memTable * 15 / 100).
		WithBlockCacheSize(0).WithIndexCacheSize(0).WithNumCompactors(2).
		WithCompression(options.None)
	if dir == "" {
		opts = opts.WithInMemory(true)
	} else {
		opts = opts.WithSyncWrites(true).WithValueLogFileSize(4 << 20)
	}
	db, err := badger.Open(opts)
	require.NoError(t, err)
	return db
}

// node is a test agent: host, store and trust manager.
type node struct {
	t      testing.TB
	key    crypto.PrivKey
	id     peer.ID
	dir    string
	h      host.Host
	db     *badger.DB
	m      *Manager
	events chan Event
	tune   func(*Config)
}

func fastConfig(c *Config) {
	c.RetryInitial = 20 * time.Millisecond
	c.RetryMax = 200 * time.Millisecond
	c.AttemptTimeout = 3 * time.Second
}

// newNode starts a node; dir "" keeps the store in memory. It is stopped
// at cleanup (stop is idempotent).
func newNode(t testing.TB, key crypto.PrivKey, dir string, tune ...func(*Config)) *node {
	t.Helper()
	if key == nil {
		key = newKey(t)
	}
	id, err := peer.IDFromPrivateKey(key)
	require.NoError(t, err)
	n := &node{t: t, key: key, id: id, dir: dir, events: make(chan Event, 1024)}
	n.tune = func(c *Config) {
		fastConfig(c)
		for _, f := range tune {
			f(c)
		}
	}
	n.start()
	t.Cleanup(n.stop)
	return n
}

// start brings up a fresh host (new port) and manager on the node's key and
// store folder.
func (n *node) start() {
	n.t.Helper()
	n.h = newHost(n.t, n.key)
	n.db = openDB(n.t, n.dir)
	cfg := Config{Host: n.h, Key: n.key, DB: n.db, OnEvent: func(ev Event) {
		select {
		case n.events <- ev:
		default:
		}
	}}
	n.tune(&cfg)
	m, err := New(cfg)
	require.NoError(n.t, err)
	require.NoError(n.t, m.Start(context.Background()))
	n.m = m
}

// stop closes the manager, the store and the host.
func (n *node) stop() {
	if n.m == nil {
		return
	}
	require.NoError(n.t, n.m.Close())
	require.NoError(n.t, n.db.Close())
	require.NoError(n.t, n.h.Close())
	n.m = nil
}

func (n *node) restart() {
	n.stop()
	n.start()
}

// know adds other's addresses to n's peerstore (no connection yet).
func (n *node) know(other *node) {
	n.h.Peerstore().AddAddrs(other.id, other.h.Addrs(), peerstore.PermanentAddrTTL)
}

func (n *node) connect(other *node) {
	n.t.Helper()
	require.NoError(n.t, n.h.Connect(context.Background(), peer.AddrInfo{ID: other.id, Addrs: other.h.Addrs()}))
}

func (n *node) state(p peer.ID) State {
	r, ok, err := n.m.Get(p)
	require.NoError(n.t, err)
	if !ok {
		return StateNone
	}
	return r.State
}

func (n *node) waitState(p peer.ID, want State) {
	n.t.Helper()
	require.Eventually(n.t, func() bool { return n.state(p) == want }, waitFor, 5*time.Millisecond,
		"%s: state of %s never became %s (is %s)", n.id, p, want, n.state(p))
}

func (n *node) waitStat(name string, atLeast uint64) {
	n.t.Helper()
	require.Eventually(n.t, func() bool { return n.m.Stats()[name] >= atLeast }, waitFor, 5*time.Millisecond,
		"stat %s never reached %d (stats %v)", name, atLeast, n.m.Stats())
}

// waitEvent waits for an event of kind about p, skipping others.
func (n *node) waitEvent(kind string, p peer.ID) Event {
	n.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case ev := <-n.events:
			if ev.Kind == kind && ev.Peer == p {
				return ev
			}
		case <-deadline:
			n.t.Fatalf("no %s event about %s", kind, p)
			return Event{}
		}
	}
}

// signed builds a signed frame body from key to `to`.
func signed(t testing.TB, key crypto.PrivKey, to peer.ID, k Kind, seq uint64, issued time.Time, msg string) []byte {
	t.Helper()
	from, err := peer.IDFromPrivateKey(key)
	require.NoError(t, err)
	f := frame{Kind: k, From: from, To: to, IssuedAt: issued.UnixMilli(), Seq: seq, Message: msg}
	body, err := f.sign(key)
	require.NoError(t, err)
	return body
}

// rawSend opens a trust stream from h to p, writes raw bytes and returns
// the ack byte.
func rawSend(t testing.TB, h host.Host, p peer.ID, raw []byte) (byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := h.NewStream(network.WithAllowLimitedConn(ctx, "test"), p, ProtocolID)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(waitFor))
	if _, err := s.Write(raw); err != nil {
		return 0, err
	}
	_ = s.CloseWrite()
	var ack [1]byte
	if _, err := io.ReadFull(s, ack[:]); err != nil {
		return 0, err
	}
	return ack[0], nil
}

// sendFrame sends a length-prefixed body and requires an ack.
func sendFrame(t testing.TB, h host.Host, p peer.ID, body []byte) byte {
	t.Helper()
	raw := append([]byte{byte(len(body) >> 8), byte(len(body))}, body...)
	code, err := rawSend(t, h, p, raw)
	require.NoError(t, err)
	return code
}
