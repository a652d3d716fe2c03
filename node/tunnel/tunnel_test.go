package tunnel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed)})
	_, _ = r.Read(b)
	return b
}

// fileServer serves body at /file.bin on loopback.
func fileServer(t *testing.T, body []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "file.bin", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPThroughTunnel(t *testing.T) {
	checkLeaks(t)
	body := randomBytes(1<<20, 1)
	want := sha256.Sum256(body)
	srv := fileServer(t, body)
	r := newRig(t, srv.Listener.Addr().String())

	require.Equal(t, KindExpose, r.expose.Kind)
	require.Equal(t, uint16(8080), r.expose.Port)
	require.Equal(t, srv.Listener.Addr().String(), r.expose.Local)
	require.Equal(t, KindForward, r.forward.Kind)
	require.Equal(t, uint16(8080), r.forward.Port)
	require.Equal(t, "3f2a.91c0.7d14:8080", r.forward.Remote)
	require.NotContains(t, r.forward.Local, ":0", "Local is the bound address")

	tr := &http.Transport{}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := "http://" + r.forward.Local + "/file.bin"
	get := func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		if err != nil {
			return fmt.Errorf("body after %d bytes: %w", n, err)
		}
		if n != int64(len(body)) || !bytes.Equal(h.Sum(nil), want[:]) {
			return fmt.Errorf("got %d bytes with the wrong sha256", n)
		}
		return nil
	}
	require.NoError(t, get())

	const clients = 20
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() { errs <- get() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	tr.CloseIdleConnections()

	// Client closes pass through both hops; the counters saw every body.
	r.waitActive(t, r.forward.ID, 0)
	r.waitActive(t, r.expose.ID, 0)
	fwd, exp := r.info(r.forward.ID), r.info(r.expose.ID)
	bodies := uint64((clients + 1) * len(body))
	require.GreaterOrEqual(t, fwd.BytesIn, bodies, "forward: responses arrive over Pilot")
	require.GreaterOrEqual(t, exp.BytesOut, bodies, "expose: responses leave over Pilot")
	require.Equal(t, fwd.BytesOut, exp.BytesIn, "requests: sent by forward = received by expose")
	require.Equal(t, fwd.BytesIn, exp.BytesOut)
	require.Equal(t, fwd.Total, exp.Total)
	require.GreaterOrEqual(t, fwd.Total, uint64(2))
	require.Zero(t, fwd.Failed+exp.Failed+fwd.Refused+exp.Refused)
}

func TestHalfClose(t *testing.T) {
	checkLeaks(t)
	t.Run("client closes first", func(t *testing.T) {
		srv := newServer(t, echoAfterEOF)
		r := newRig(t, srv.addr())
		msg := randomBytes(300<<10, 2)
		c := dial(t, r.forward.Local)
		require.NoError(t, c.SetDeadline(time.Now().Add(waitFor)))
		_, err := c.Write(msg)
		require.NoError(t, err)
		require.NoError(t, c.CloseWrite())
		// The server answers only once our EOF has crossed both hops.
		got, err := io.ReadAll(c)
		require.NoError(t, err)
		require.Equal(t, msg, got)
	})
	t.Run("server closes first", func(t *testing.T) {
		greeting := randomBytes(100<<10, 3)
		heard := make(chan string, 1)
		srv := newServer(t, func(c *net.TCPConn) {
			if _, err := c.Write(greeting); err != nil || c.CloseWrite() != nil {
				return
			}
			b, _ := io.ReadAll(c)
			heard <- string(b)
		})
		r := newRig(t, srv.addr())
		c := dial(t, r.forward.Local)
		require.NoError(t, c.SetDeadline(time.Now().Add(waitFor)))
		got, err := io.ReadAll(c) // EOF while our side is still open
		require.NoError(t, err)
		require.Equal(t, greeting, got)
		_, err = c.Write([]byte("bye"))
		require.NoError(t, err)
		require.NoError(t, c.CloseWrite())
		select {
		case s := <-heard:
			require.Equal(t, "bye", s)
		case <-time.After(waitFor):
			t.Fatal("the server never read our data and EOF")
		}
		r.waitActive(t, r.forward.ID, 0)
		r.waitActive(t, r.expose.ID, 0)
	})
}

func TestCloseTunnel(t *testing.T) {
	checkLeaks(t)
	srv := newServer(t, echo)
	r := newRig(t, srv.addr())

	c := dial(t, r.forward.Local)
	roundTrip(t, c, "ping")
	r.waitActive(t, r.forward.ID, 1)
	r.waitActive(t, r.expose.ID, 1)

	require.NoError(t, r.m.Close(r.forward.ID))
	requireEnds(t, c)
	_, err := net.Dial("tcp", r.forward.Local)
	require.Error(t, err, "the forward's listener is closed")
	require.ErrorIs(t, r.m.Close(r.forward.ID), ErrNotFound)
	require.ErrorIs(t, r.m.Close("t999"), ErrNotFound)
	_, err = r.m.Get(r.forward.ID)
	require.ErrorIs(t, err, ErrNotFound)
	ei, err := r.m.Get(r.expose.ID)
	require.NoError(t, err)
	require.Equal(t, uint64(1), ei.Total)
	list := r.m.List()
	require.Len(t, list, 1)
	require.Equal(t, r.expose.ID, list[0].ID)
	r.waitActive(t, r.expose.ID, 0) // the abort crossed the Pilot hop

	// A stream straight onto the (stand-in) Pilot port, then close the
	// expose under it.
	p := dial(t, r.pilotAddr)
	roundTrip(t, p, "pong")
	require.NoError(t, r.m.Close(r.expose.ID))
	requireEnds(t, p)
	_, err = net.Dial("tcp", r.pilotAddr)
	require.Error(t, err, "the Pilot port listener is closed")
	require.Empty(t, r.m.List())
}

func TestCloseAll(t *testing.T) {
	checkLeaks(t)
	srv := newServer(t, echo)
	r := newRig(t, srv.addr())
	fi2, err := r.m.Forward("127.0.0.1:0", "elsewhere:8080", tcpDialer(r.pilotAddr))
	require.NoError(t, err)

	var conns []net.Conn
	for i := range 6 {
		addr := r.forward.Local
		if i%2 == 1 {
			addr = fi2.Local
		}
		c := dial(t, addr)
		roundTrip(t, c, fmt.Sprintf("hello %d", i))
		conns = append(conns, c)
	}
	r.waitActive(t, r.expose.ID, 6)

	require.NoError(t, r.m.CloseAll())
	for _, c := range conns {
		requireEnds(t, c)
	}
	require.Empty(t, r.m.List())
	require.NoError(t, r.m.CloseAll(), "idempotent")

	pl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, err = r.m.Expose(pl, 1, srv.addr())
	require.ErrorIs(t, err, ErrClosed)
	_, err = pl.Accept()
	require.Error(t, err, "Expose closes the listener it refuses")
	_, err = r.m.Forward("127.0.0.1:0", "x:1", tcpDialer(r.pilotAddr))
	require.ErrorIs(t, err, ErrClosed)
}

func TestTargetClosedMidTransfer(t *testing.T) {
	checkLeaks(t)
	for _, tc := range []struct {
		name string
		end  func(s *server)
	}{
		{"reset", func(s *server) { s.kill() }},
		{"close", func(s *server) {
			s.ln.Close()
			s.mu.Lock()
			for c := range s.conns {
				c.Close()
			}
			s.mu.Unlock()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chunk := randomBytes(32<<10, 4)
			srv := newServer(t, func(c *net.TCPConn) {
				for {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			})
			r := newRig(t, srv.addr())
			c := dial(t, r.forward.Local)
			require.NoError(t, c.SetReadDeadline(time.Now().Add(waitFor)))
			_, err := io.ReadFull(c, make([]byte, 1<<20))
			require.NoError(t, err)
			tc.end(srv)
			requireEnds(t, c)
			c.Close()
			r.waitActive(t, r.forward.ID, 0)
			r.waitActive(t, r.expose.ID, 0)
		})
	}
}

func TestExposeDialFailure(t *testing.T) {
	checkLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	r := newRig(t, dead)

	requireRefused(t, r.forward.Local)
	requireRefused(t, r.pilotAddr)
	require.Eventually(t, func() bool { return r.info(r.expose.ID).Failed == 2 }, waitFor, tick)
	r.waitActive(t, r.expose.ID, 0)
	r.waitActive(t, r.forward.ID, 0)
}

func TestForwardDialFailure(t *testing.T) {
	checkLeaks(t)
	m := NewManager()
	defer m.CloseAll()
	fi, err := m.Forward("127.0.0.1:0", "nowhere:1", func(context.Context) (net.Conn, error) {
		return nil, errors.New("no route")
	})
	require.NoError(t, err)
	requireRefused(t, fi.Local)
	require.Eventually(t, func() bool { return m.List()[0].Failed == 1 }, waitFor, tick)
}

func TestConnectionLimit(t *testing.T) {
	checkLeaks(t)
	srv := newServer(t, echo)
	r := newRig(t, srv.addr(), func(m *Manager) { m.MaxConns = 2 })
	a, b := dial(t, r.forward.Local), dial(t, r.forward.Local)
	roundTrip(t, a, "a")
	roundTrip(t, b, "b")

	requireRefused(t, r.forward.Local)
	require.Eventually(t, func() bool { return r.info(r.forward.ID).Refused == 1 }, waitFor, tick)
	roundTrip(t, a, "a still works")

	a.Close()
	r.waitActive(t, r.forward.ID, 1)
	again := dial(t, r.forward.Local)
	roundTrip(t, again, "room again")
}

// Close cancels a dial in flight and still waits for its goroutine.
func TestCloseDuringDial(t *testing.T) {
	checkLeaks(t)
	m := NewManager()
	defer m.CloseAll()
	dialing := make(chan struct{}, 1)
	fi, err := m.Forward("127.0.0.1:0", "slow:1", func(ctx context.Context) (net.Conn, error) {
		dialing <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	require.NoError(t, err)
	c := dial(t, fi.Local)
	select {
	case <-dialing:
	case <-time.After(waitFor):
		t.Fatal("the dialer was never called")
	}
	require.NoError(t, m.Close(fi.ID))
	requireEnds(t, c)
}

// A listener that dies under the tunnel (its Pilot port closed by the
// node) takes the tunnel out of the list.
func TestListenerClosedUnderTunnel(t *testing.T) {
	checkLeaks(t)
	m := NewManager()
	defer m.CloseAll()
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ei, err := m.Expose(pl, 8080, "127.0.0.1:1")
	require.NoError(t, err)
	require.Len(t, m.List(), 1)
	require.NoError(t, pl.Close())
	require.Eventually(t, func() bool { return len(m.List()) == 0 }, waitFor, tick)
	require.ErrorIs(t, m.Close(ei.ID), ErrNotFound)
}
