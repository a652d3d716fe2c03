package ports

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func newHost(t testing.TB, opts ...libp2p.Option) host.Host {
	t.Helper()
	h, err := libp2p.New(append([]libp2p.Option{libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

func connect(t testing.TB, a, b host.Host) {
	t.Helper()
	require.NoError(t, a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}))
}

func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// echoServer accepts on l and echoes every connection until l closes.
func echoServer(l *Listener) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			})
		}
	})
	return &wg
}

func TestDialListenEcho(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	ma, mb := New(a, nil), New(b, nil)
	defer ma.Close()
	defer mb.Close()
	l, err := mb.Listen(PortEcho)
	require.NoError(t, err)
	wg := echoServer(l)

	var clients sync.WaitGroup
	for i := range 20 {
		clients.Go(func() {
			c, err := ma.Dial(context.Background(), b.ID(), PortEcho)
			if !assertNoError(t, err) {
				return
			}
			defer c.Close()
			msg := []byte("hello pilot " + string(rune('a'+i)))
			_, err = c.Write(msg)
			assertNoError(t, err)
			assertNoError(t, c.CloseWrite())
			got, err := io.ReadAll(c)
			assertNoError(t, err)
			if string(got) != string(msg) {
				t.Errorf("echo %q, want %q", got, msg)
			}
			require.Equal(t, b.ID(), c.RemotePeer())
			require.Equal(t, PortEcho, c.Port())
		})
	}
	clients.Wait()
	require.NoError(t, l.Close())
	wg.Wait()
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestPolicyRefusesUntrusted(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	allowed := map[uint16]bool{PortEcho: true}
	mb := New(b, PolicyFunc(func(p peer.ID, port uint16) bool { return allowed[port] }))
	defer mb.Close()
	ma := New(a, nil)
	defer ma.Close()
	for _, port := range []uint16{PortEcho, PortData} {
		l, err := mb.Listen(port)
		require.NoError(t, err)
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	c, err := ma.Dial(context.Background(), b.ID(), PortEcho)
	require.NoError(t, err)
	c.Close()
	_, err = ma.Dial(context.Background(), b.ID(), PortData)
	require.ErrorIs(t, err, ErrTrustRequired)
}

func TestClosedPortAndReuse(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	ma, mb := New(a, nil), New(b, nil)
	defer ma.Close()
	defer mb.Close()
	_, err := ma.Dial(context.Background(), b.ID(), 9999)
	require.ErrorIs(t, err, ErrPortClosed)

	l, err := mb.Listen(9999)
	require.NoError(t, err)
	_, err = mb.Listen(9999)
	require.ErrorIs(t, err, ErrInUse)
	require.NoError(t, l.Close())
	_, err = l.Accept()
	require.ErrorIs(t, err, ErrClosed)
	_, err = ma.Dial(context.Background(), b.ID(), 9999)
	require.ErrorIs(t, err, ErrPortClosed)
	l2, err := mb.Listen(9999)
	require.NoError(t, err, "a closed port can be opened again")
	l2.Close()
}

// backlogFull connects two hosts, listens on port at b and fills the
// listener's backlog with streams from a that nobody accepts. The muxes
// and conns close at cleanup.
type backlogFull struct {
	a, b  host.Host
	ma    *Mux
	l     *Listener
	conns []*Conn
}

func fillBacklog(t *testing.T, port uint16) backlogFull {
	t.Helper()
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	ma, mb := New(a, nil), New(b, nil)
	t.Cleanup(func() { ma.Close(); mb.Close() })
	l, err := mb.Listen(port)
	require.NoError(t, err)
	f := backlogFull{a: a, b: b, ma: ma, l: l}
	t.Cleanup(func() {
		for _, c := range f.conns {
			c.Close()
		}
	})
	for range backlogSize {
		c, err := ma.Dial(context.Background(), b.ID(), port)
		require.NoError(t, err)
		f.conns = append(f.conns, c)
	}
	return f
}

func TestBacklogOverflowIsOverloaded(t *testing.T) {
	checkLeaks(t)
	f := fillBacklog(t, 5000)
	ma, b, l := f.ma, f.b, f.l
	_, err := ma.Dial(context.Background(), b.ID(), 5000)
	require.ErrorIs(t, err, ErrOverloaded)
	c, err := l.Accept()
	require.NoError(t, err)
	c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c2, err := ma.Dial(ctx, b.ID(), 5000)
	require.NoError(t, err, "accepting frees a place")
	c2.Close()
	require.NoError(t, l.Close())
}

func TestAddrString(t *testing.T) {
	h := newHost(t)
	s := Addr{Peer: h.ID(), Port: 1001}.String()
	require.Regexp(t, `^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}:1001$`, s)
	require.Equal(t, "/pilot/port/1001/1.0.0", string(ProtocolID(1001)))
}

// TestClosedPortStaleProtocols: when the dialer still believes the port's
// protocol is supported (its identify data predates the close), the
// stream opens without negotiation and the refusal comes with the first
// read; that is still ErrPortClosed.
func TestClosedPortStaleProtocols(t *testing.T) {
	checkLeaks(t)
	a, b := newHost(t), newHost(t)
	connect(t, a, b)
	ma, mb := New(a, nil), New(b, nil)
	defer ma.Close()
	defer mb.Close()
	require.NoError(t, a.Peerstore().AddProtocols(b.ID(), ProtocolID(9999)))
	_, err := ma.Dial(context.Background(), b.ID(), 9999)
	require.ErrorIs(t, err, ErrPortClosed)
}
