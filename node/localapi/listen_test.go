package localapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// holdBackend holds "ports" as TCP listeners on loopback, standing in for
// Pilot ports: a test dials them to play the remote agent.
type holdBackend struct {
	echoBackend
	mu    sync.Mutex
	addrs map[uint16]string
	held  map[uint16]net.Listener
}

func (b *holdBackend) ListenPort(port uint16) (net.Listener, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held[port] != nil {
		return nil, Errorf(CodeInvalidArgument, "pick another port", "port %d already in use", port)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.addrs[port] = l.Addr().String()
	b.held[port] = l
	return &closeHook{Listener: l, f: func() {
		b.mu.Lock()
		delete(b.held, port)
		b.mu.Unlock()
	}}, nil
}

func (b *holdBackend) addr(port uint16) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addrs[port]
}

type closeHook struct {
	net.Listener
	once sync.Once
	f    func()
}

func (c *closeHook) Close() error {
	err := c.Listener.Close()
	c.once.Do(c.f)
	return err
}

// TestHeldPort: one listener accepts many streams, in both directions, with
// concurrent dialers; a second hold of the same port is refused; Close
// frees the port and ends Accept with net.ErrClosed; bad requests fail
// with codes.
func TestHeldPort(t *testing.T) {
	b := &holdBackend{addrs: map[uint16]string{}, held: map[uint16]net.Listener{}}
	sock := filepath.Join(t.TempDir(), "pilot.sock")
	s, err := Listen(sock, b)
	require.NoError(t, err)
	defer s.Close()
	c := NewClient(sock)
	defer c.Close()
	ctx := context.Background()

	l, err := c.ListenPort(ctx, 80)
	require.NoError(t, err)
	require.Equal(t, "local:80", l.Addr().String())
	_, err = c.ListenPort(ctx, 80)
	require.Equal(t, CodeInvalidArgument, AsError(err).Code, "a held port is in use")

	// The server side: an upper-casing service on every accepted stream.
	served := make(chan error, 1)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				served <- err
				return
			}
			go func() {
				defer conn.Close()
				line, err := bufio.NewReader(conn).ReadString('\n')
				if err != nil {
					return
				}
				fmt.Fprintf(conn, "%s %s", conn.RemoteAddr().Network(), strings.ToUpper(line))
			}()
		}
	}()

	const dialers = 20
	var wg sync.WaitGroup
	errs := make(chan error, dialers)
	for i := range dialers {
		wg.Go(func() {
			d, err := net.Dial("tcp", b.addr(80))
			if err != nil {
				errs <- err
				return
			}
			defer d.Close()
			fmt.Fprintf(d, "hello %d\n", i)
			back, err := io.ReadAll(d)
			if err != nil {
				errs <- err
				return
			}
			if want := fmt.Sprintf("pilot HELLO %d\n", i); string(back) != want {
				errs <- fmt.Errorf("got %q, want %q", back, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	err = <-served
	require.True(t, errors.Is(err, net.ErrClosed), "Accept after Close: %v", err)

	// The daemon frees the port once the holder is gone.
	require.Eventually(t, func() bool {
		l2, err := c.ListenPort(ctx, 80)
		if err != nil {
			return false
		}
		l2.Close()
		return true
	}, 10*time.Second, 20*time.Millisecond)

	_, err = c.ListenPort(ctx, 0)
	require.Equal(t, CodeInvalidArgument, AsError(err).Code)
	_, err = c.upgrade(ctx, "/v1/listen/take", takeRequest{Token: "nope"})
	require.Equal(t, CodeNotFound, AsError(err).Code)
}

// TestHeldPortUnsupported: a backend without ListenBackend says so.
func TestHeldPortUnsupported(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "pilot.sock")
	s, err := Listen(sock, echoBackend{})
	require.NoError(t, err)
	defer s.Close()
	c := NewClient(sock)
	defer c.Close()
	_, err = c.ListenPort(context.Background(), 80)
	require.Equal(t, CodeInternal, AsError(err).Code)
	require.Contains(t, AsError(err).Message, "holding a port open")
}

// TestHeldPortServerClose: the daemon stopping ends Accept with an error,
// not a hang.
func TestHeldPortServerClose(t *testing.T) {
	b := &holdBackend{addrs: map[uint16]string{}, held: map[uint16]net.Listener{}}
	sock := filepath.Join(t.TempDir(), "pilot.sock")
	s, err := Listen(sock, b)
	require.NoError(t, err)
	c := NewClient(sock)
	defer c.Close()
	l, err := c.ListenPort(context.Background(), 9)
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, s.Close())
	_, err = l.Accept()
	require.Error(t, err)
	require.False(t, errors.Is(err, net.ErrClosed), "the listener was not closed by its owner")
}

// FuzzAnnouncement feeds arbitrary control-stream bytes to the listener's
// reader: it must return announcements with a token or an error, never
// panic, and never accept a line over the bound.
func FuzzAnnouncement(f *testing.F) {
	f.Add([]byte(`{"status":"ok","data":{"token":"ab","remote":"3f2a.91c0.7d14:80"}}` + "\n"))
	f.Add([]byte(`{"status":"ok","data":{"token":""}}` + "\n"))
	f.Add([]byte(`{"status":"error","code":"internal"}` + "\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := bufio.NewReaderSize(strings.NewReader(string(b)), 16)
		for {
			line, err := readLine(rd, maxInboundLine)
			if err != nil {
				return
			}
			if len(line) > maxInboundLine {
				t.Fatalf("a %d-byte line passed the %d bound", len(line), maxInboundLine)
			}
			if in, ok := parseInbound(line); ok && in.Token == "" {
				t.Fatal("an announcement without a token was accepted")
			}
		}
	})
}
