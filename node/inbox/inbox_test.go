package inbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/ports"
)

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestSendEveryKind(t *testing.T) {
	for _, onDisk := range []bool{false, true} {
		name := map[bool]string{false: "memory", true: "disk"}[onDisk]
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			got := make(chan Message, 10)
			p := newPair(t, onDisk, func(c *Config) { c.OnMessage = func(m Message) { got <- m } })
			fileSize := 3 << 20
			if !onDisk {
				fileSize = 700 << 10 // in memory, files are bounded by MaxMessage
			}
			sent := []struct {
				kind Kind
				name string
				body []byte
			}{
				{KindText, "", []byte("hello, agent — ünïcødé")},
				{KindJSON, "", []byte(`{"task":"summarise","n":[1,2,3]}`)},
				{KindBinary, "", randBytes(t, 300<<10)}, // several chunks
				{KindFile, "report v2.pdf", randBytes(t, fileSize)},
				{KindText, "", nil}, // empty text is text
			}
			var ids []string
			for _, s := range sent {
				id, err := p.send(s.kind, s.name, s.body)
				require.NoError(t, err, s.kind)
				require.True(t, validID(id), id)
				ids = append(ids, id)
				m := <-got
				require.Equal(t, id, m.ID)
			}
			wantAddr, err := addressing.FromPeerID(p.sender.ID())
			require.NoError(t, err)

			list, err := p.in.List(context.Background())
			require.NoError(t, err)
			require.Len(t, list, len(sent))
			for i, m := range list {
				s := sent[i]
				require.Equal(t, ids[i], m.ID, "newest last")
				require.Equal(t, p.sender.ID(), m.From)
				require.Equal(t, wantAddr, m.FromAddr)
				require.Equal(t, s.kind, m.Kind)
				require.Equal(t, s.name, m.Name)
				require.Equal(t, int64(len(s.body)), m.Size)
				require.Nil(t, m.Body, "List omits bodies")
				require.WithinDuration(t, time.Now(), m.ReceivedAt, time.Minute)
				if i > 0 {
					require.True(t, m.ReceivedAt.After(list[i-1].ReceivedAt))
				}

				g, err := p.in.Get(context.Background(), m.ID)
				require.NoError(t, err)
				if onDisk && s.kind == KindFile {
					require.Nil(t, g.Body)
					require.Equal(t, filepath.Join(p.filesDir, m.ID+"-"+s.name), g.Path)
					data, err := os.ReadFile(g.Path)
					require.NoError(t, err)
					require.Equal(t, sha256.Sum256(s.body), sha256.Sum256(data))
					st, err := os.Stat(g.Path)
					require.NoError(t, err)
					require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
				} else {
					require.Empty(t, g.Path)
					require.Equal(t, sha256.Sum256(s.body), sha256.Sum256(g.Body), s.kind)
				}
			}
			require.Equal(t, uint64(len(sent)), p.in.Stats()[StatStored])

			for _, m := range list {
				require.NoError(t, p.in.Delete(context.Background(), m.ID))
				_, err := p.in.Get(context.Background(), m.ID)
				require.ErrorIs(t, err, ErrNotFound)
				require.ErrorIs(t, p.in.Delete(context.Background(), m.ID), ErrNotFound)
			}
			p.requireEmpty(t)
		})
	}
}

func TestGetUnknownOrMalformedID(t *testing.T) {
	in, err := New(Config{DB: memDB(t)})
	require.NoError(t, err)
	defer in.Close()
	for _, id := range []string{"", "x", "../../etc/passwd", "0123456789abcdef0123456", "0123456789ABCDEF01234567", "0123456789abcdef01234567"} {
		_, err := in.Get(context.Background(), id)
		require.ErrorIs(t, err, ErrNotFound, id)
		require.ErrorIs(t, in.Delete(context.Background(), id), ErrNotFound, id)
	}
}

func TestInMemoryFilesAreBoundedByMessageLimit(t *testing.T) {
	checkLeaks(t)
	p := newPair(t, false, func(c *Config) { c.MaxMessage = 64 << 10 })
	_, err := p.send(KindFile, "small.bin", randBytes(t, 64<<10))
	require.NoError(t, err)
	_, err = p.send(KindFile, "big.bin", randBytes(t, 64<<10+1))
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorIs(t, err, ErrRejected)
	list, err := p.in.List(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
}

func TestQuotas(t *testing.T) {
	checkLeaks(t)
	t.Run("messages", func(t *testing.T) {
		p := newPair(t, false, func(c *Config) { c.MaxMessages = 3 })
		var ids []string
		for range 3 {
			id, err := p.send(KindText, "", []byte("hi"))
			require.NoError(t, err)
			ids = append(ids, id)
		}
		_, err := p.send(KindText, "", []byte("one too many"))
		require.ErrorIs(t, err, ErrInboxFull)
		var re *RemoteError
		require.ErrorAs(t, err, &re)
		require.Equal(t, StatusFull, re.Status)
		require.Equal(t, uint64(1), p.in.Stats()[StatFull])
		require.NoError(t, p.in.Delete(context.Background(), ids[0]))
		_, err = p.send(KindText, "", []byte("room again"))
		require.NoError(t, err)
	})
	t.Run("file bytes", func(t *testing.T) {
		p := newPair(t, true, func(c *Config) { c.MaxFilesBytes = 1 << 20 })
		_, err := p.send(KindFile, "a.bin", randBytes(t, 600<<10))
		require.NoError(t, err)
		_, err = p.send(KindFile, "b.bin", randBytes(t, 600<<10))
		require.ErrorIs(t, err, ErrInboxFull)
		entries, err := os.ReadDir(p.filesDir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "nothing of the refused file")
	})
	t.Run("message bytes", func(t *testing.T) {
		p := newPair(t, false, func(c *Config) { c.MaxInlineBytes = 100 })
		_, err := p.send(KindBinary, "", make([]byte, 60))
		require.NoError(t, err)
		_, err = p.send(KindBinary, "", make([]byte, 60))
		require.ErrorIs(t, err, ErrInboxFull)
	})
}

func TestAcknowledgedMessagesSurviveRestart(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	storeDir, filesDir := filepath.Join(dir, "store"), filepath.Join(dir, "received")
	a, b := newHost(t), newHost(t)
	require.NoError(t, a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}))
	ma := ports.New(a, nil)
	defer ma.Close()
	file := randBytes(t, 2<<20)

	db := openDiskDB(t, storeDir)
	in, err := New(Config{DB: db, FilesDir: filesDir})
	require.NoError(t, err)
	mb := ports.New(b, nil)
	l, err := mb.Listen(ports.PortData)
	require.NoError(t, err)
	in.Serve(l)
	ctx := context.Background()
	textID, err := Send(ctx, ma, b.ID(), KindText, "", stringsReader("durable"), 7)
	require.NoError(t, err)
	fileID, err := Send(ctx, ma, b.ID(), KindFile, "data.bin", bytesReader(file), int64(len(file)))
	require.NoError(t, err)
	require.NoError(t, in.Close())
	require.NoError(t, mb.Close())
	require.NoError(t, db.Close())

	db = openDiskDB(t, storeDir)
	defer db.Close()
	in, err = New(Config{DB: db, FilesDir: filesDir, MaxMessages: 2})
	require.NoError(t, err)
	defer in.Close()
	m, err := in.Get(ctx, textID)
	require.NoError(t, err)
	require.Equal(t, "durable", string(m.Body))
	m, err = in.Get(ctx, fileID)
	require.NoError(t, err)
	data, err := os.ReadFile(m.Path)
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(file), sha256.Sum256(data))
	in.mu.Lock()
	require.Equal(t, 2, in.count, "quotas count what was stored before")
	require.Equal(t, int64(len(file)), in.fileBytes)
	in.mu.Unlock()
}

func TestStalledSenderTimesOutAndExcessIsBusy(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"handlers": func(c *Config) { c.MaxHandlers = 1 },
		"per peer": func(c *Config) { c.MaxPerPeer = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			checkLeaks(t)
			testStall(t, newPair(t, false, func(c *Config) { edit(c); c.IdleTimeout = 300 * time.Millisecond }))
		})
	}
}

func testStall(t *testing.T, p *pair) {
	c, err := p.smux.Dial(context.Background(), p.receiver.ID(), ports.PortData)
	require.NoError(t, err)
	defer c.Close()
	hdr := header(t, KindText, "", 100)
	_, err = c.Write(append(hdr, "only part of it"...)) // then silence
	require.NoError(t, err)
	eventually(t, func() bool { p.in.mu.Lock(); defer p.in.mu.Unlock(); return len(p.in.conns) == 1 }, "handler busy")
	_, err = p.send(KindText, "", []byte("while full"))
	require.ErrorIs(t, err, ErrBusy)
	require.Equal(t, uint64(1), p.in.Stats()[StatBusy])

	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := DecodeResponse(c)
	require.NoError(t, err)
	require.Equal(t, StatusMalformed, resp.Status)
	require.Contains(t, resp.Reason, "no data")
	require.Equal(t, uint64(1), p.in.Stats()[StatTimeout])
	eventually(t, func() bool { p.in.mu.Lock(); defer p.in.mu.Unlock(); return len(p.in.conns) == 0 }, "handler done")
	p.requireEmpty(t)
	_, err = p.send(KindText, "", []byte("after the stall"))
	require.NoError(t, err)
}

func TestCloseAbortsTransfersInProgress(t *testing.T) {
	checkLeaks(t)
	p := newPair(t, true, nil) // default 30 s idle timeout
	c, err := p.smux.Dial(context.Background(), p.receiver.ID(), ports.PortData)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(append(header(t, KindFile, "x.bin", 1<<20), randBytes(t, 1000)...))
	require.NoError(t, err)
	eventually(t, func() bool {
		entries, _ := os.ReadDir(p.filesDir)
		return len(entries) == 1 // the temporary file
	}, "transfer started")
	closed := make(chan struct{})
	go func() { p.in.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a stalled transfer")
	}
	require.Equal(t, uint64(1), p.in.Stats()[StatAborted])
	p.requireEmpty(t)
	_, err = p.send(KindText, "", []byte("closed"))
	require.Error(t, err, "nobody serves the port after Close")
}

func TestSendHonoursContext(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	require.NoError(t, a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}))
	ma, mb := ports.New(a, nil), ports.New(b, nil)
	defer ma.Close()
	defer mb.Close()
	l, err := mb.Listen(ports.PortData)
	require.NoError(t, err)
	accepted := make(chan *ports.Conn, 1)
	go func() { // a receiver that never reads
		c, err := l.AcceptConn()
		if err == nil {
			accepted <- c
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		c := <-accepted
		cancel() // the sender is blocked on the full window by now or soon
		c.Close()
	}()
	_, err = Send(ctx, ma, b.ID(), KindFile, "big", zeroReader{}, 1<<30)
	require.ErrorIs(t, err, context.Canceled)
	l.Close()
}

func TestTrustRequired(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	require.NoError(t, a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}))
	ma := ports.New(a, nil)
	mb := ports.New(b, ports.PolicyFunc(func(peer.ID, uint16) bool { return false }))
	defer ma.Close()
	defer mb.Close()
	in, err := New(Config{DB: memDB(t)})
	require.NoError(t, err)
	defer in.Close()
	l, err := mb.Listen(ports.PortData)
	require.NoError(t, err)
	in.Serve(l)
	_, err = Send(context.Background(), ma, b.ID(), KindText, "", stringsReader("hi"), 2)
	require.ErrorIs(t, err, ports.ErrTrustRequired)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// countingReader counts what Send took from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
