package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const (
	waitFor = 10 * time.Second
	tick    = 5 * time.Millisecond
)

func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// tcpDialer dials addr: in tests a TCP listener on loopback stands in for
// the Pilot port, so a forward's Dialer is a TCP dial to it.
func tcpDialer(addr string) Dialer {
	return func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
}

// rig is a full tunnel on loopback: client → forward (TCP listener) →
// TCP stand-in for the Pilot port → expose → target.
type rig struct {
	m               *Manager
	expose, forward Info
	pilotAddr       string // the stand-in Pilot port
}

func newRig(t testing.TB, target string, configure ...func(*Manager)) *rig {
	t.Helper()
	m := NewManager()
	for _, f := range configure {
		f(m)
	}
	t.Cleanup(func() { require.NoError(t, m.CloseAll()) })
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ei, err := m.Expose(pl, 8080, target)
	require.NoError(t, err)
	fi, err := m.Forward("127.0.0.1:0", "3f2a.91c0.7d14:8080", tcpDialer(pl.Addr().String()))
	require.NoError(t, err)
	return &rig{m: m, expose: ei, forward: fi, pilotAddr: pl.Addr().String()}
}

// info returns the current Info of tunnel id, or a zero Info.
func (r *rig) info(id string) Info {
	for _, i := range r.m.List() {
		if i.ID == id {
			return i
		}
	}
	return Info{}
}

func (r *rig) waitActive(t testing.TB, id string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return r.info(id).Active == n },
		waitFor, tick, "tunnel %s: want %d active connections", id, n)
}

// server is a TCP server on loopback running handle for every connection;
// Cleanup closes the listener and every connection, and waits.
type server struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func newServer(t testing.TB, handle func(c *net.TCPConn)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &server{ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Go(func() {
				defer func() {
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
					c.Close()
				}()
				handle(c.(*net.TCPConn))
			})
		}
	})
	t.Cleanup(s.close)
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

// kill closes the listener and resets every open connection.
func (s *server) kill() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		abort(c)
	}
	s.mu.Unlock()
}

func (s *server) close() {
	s.kill()
	s.wg.Wait()
}

// echo copies back whatever arrives, as it arrives.
func echo(c *net.TCPConn) { _, _ = io.Copy(c, c) }

// echoAfterEOF reads everything until EOF, then sends it back and closes.
func echoAfterEOF(c *net.TCPConn) {
	data, err := io.ReadAll(c)
	if err == nil {
		_, _ = c.Write(data)
	}
}

// roundTrip writes msg and reads it back from an echo.
func roundTrip(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(waitFor)))
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, msg, string(got))
	require.NoError(t, c.SetDeadline(time.Time{}))
}

// requireEnds checks that c ends (EOF or an error) well before the guard
// deadline: the point is that it does not hang.
func requireEnds(t testing.TB, c net.Conn) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(waitFor)))
	_, err := io.Copy(io.Discard, c)
	require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "connection still open after %v", waitFor)
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// requireRefused checks that a connection to addr ends at once: the dial
// itself may already see the reset on a fast loopback.
func requireRefused(t testing.TB, addr string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer c.Close()
	requireEnds(t, c)
}
