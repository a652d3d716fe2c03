package inbox

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/pilot-agents/pilot/node/ports"
)

func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

func memDB(t testing.TB) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions("").WithInMemory(true).WithLogger(nil))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func openDiskDB(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(true).WithLogger(nil).
		WithMemTableSize(8 << 20).WithValueLogFileSize(32 << 20).WithValueThreshold(64 << 10))
	require.NoError(t, err)
	return db
}

// pair is a sender and a receiver serving an inbox on port 1001.
type pair struct {
	sender, receiver host.Host
	smux, rmux       *ports.Mux
	in               *Inbox
	db               *badger.DB
	filesDir         string // "" for an in-memory receiver
}

// newPair connects two hosts; the receiver's inbox is in memory, or on
// disk (Badger and FilesDir under t.TempDir()) when onDisk. edit adjusts
// the inbox config.
func newPair(t testing.TB, onDisk bool, edit func(*Config)) *pair {
	t.Helper()
	p := &pair{sender: newHost(t), receiver: newHost(t)}
	require.NoError(t, p.sender.Connect(context.Background(), peer.AddrInfo{ID: p.receiver.ID(), Addrs: p.receiver.Addrs()}))
	cfg := Config{}
	if onDisk {
		dir := t.TempDir()
		p.db = openDiskDB(t, filepath.Join(dir, "store"))
		t.Cleanup(func() { p.db.Close() })
		p.filesDir = filepath.Join(dir, "received")
		cfg.FilesDir = p.filesDir
	} else {
		p.db = memDB(t)
	}
	cfg.DB = p.db
	if edit != nil {
		edit(&cfg)
	}
	var err error
	p.in, err = New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.in.Close() })
	p.smux, p.rmux = ports.New(p.sender, nil), ports.New(p.receiver, nil)
	t.Cleanup(func() { p.smux.Close() })
	t.Cleanup(func() { p.rmux.Close() })
	l, err := p.rmux.Listen(ports.PortData)
	require.NoError(t, err)
	p.in.Serve(l)
	return p
}

func (p *pair) send(kind Kind, name string, body []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return Send(ctx, p.smux, p.receiver.ID(), kind, name, bytes.NewReader(body), int64(len(body)))
}

// raw writes frame on a stream to port 1001, half-closes and reads the
// answer.
func (p *pair) raw(t testing.TB, frame []byte) (Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := p.smux.Dial(ctx, p.receiver.ID(), ports.PortData)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	_, err = c.Write(frame)
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	return DecodeResponse(c)
}

// requireEmpty checks that nothing is stored: no record, no chunk, no file
// (temporary or not).
func (p *pair) requireEmpty(t *testing.T) {
	t.Helper()
	list, err := p.in.List(context.Background())
	require.NoError(t, err)
	require.Empty(t, list)
	n := 0
	require.NoError(t, p.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("/inbox/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	}))
	require.Zero(t, n, "keys left under /inbox/")
	if p.filesDir != "" {
		entries, err := os.ReadDir(p.filesDir)
		require.NoError(t, err)
		require.Empty(t, entries, "files left in FilesDir")
	}
	p.in.mu.Lock()
	defer p.in.mu.Unlock()
	require.Zero(t, p.in.count)
	require.Zero(t, p.in.fileBytes)
	require.Zero(t, p.in.inlineBytes)
}

func header(t testing.TB, kind Kind, name string, size int64) []byte {
	t.Helper()
	h, err := EncodeHeader(Header{Kind: kind, Name: name, Size: size})
	require.NoError(t, err)
	return h
}

// rawHeader builds a header without validation.
func rawHeader(version, kind byte, name string, size uint64) []byte {
	b := []byte{'P', 'D', version, kind, byte(len(name))}
	b = append(b, name...)
	return append(b, byte(size>>56), byte(size>>48), byte(size>>40), byte(size>>32),
		byte(size>>24), byte(size>>16), byte(size>>8), byte(size))
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, 5*time.Millisecond, msg)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
func bytesReader(b []byte) *bytes.Reader     { return bytes.NewReader(b) }
