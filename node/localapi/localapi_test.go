package localapi

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// echoBackend answers with what it was given.
type echoBackend struct{ UnsupportedBackend }

func (echoBackend) Identity() Identity {
	return Identity{Address: "3f2a.91c0.7d14", PeerID: "12D3KooW"}
}
func (echoBackend) Status(context.Context) (Status, error) {
	return Status{}, Errorf(CodeNotFound, "h", "no status")
}
func (echoBackend) Resolve(_ context.Context, a string) (Resolved, error) {
	return Resolved{Address: a}, nil
}
func (echoBackend) Ping(_ context.Context, r PingRequest) (PingResult, error) {
	return PingResult{Address: r.Address, Sent: r.Count}, nil
}
func (echoBackend) Peers(context.Context) (Peers, error) { return Peers{}, context.DeadlineExceeded }
func (echoBackend) Unpin(_ context.Context, a string) (Unpinned, error) {
	return Unpinned{Address: a, Removed: true}, nil
}

func TestClientServerRoundTrip(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "pilot.sock")
	s, err := Listen(sock, echoBackend{})
	require.NoError(t, err)
	defer s.Close()
	c := NewClient(sock)
	defer c.Close()
	ctx := context.Background()

	id, err := c.Identity(ctx)
	require.NoError(t, err)
	require.Equal(t, "3f2a.91c0.7d14", id.Address)

	r, err := c.Ping(ctx, PingRequest{Address: "x", Count: 4})
	require.NoError(t, err)
	require.Equal(t, 4, r.Sent)

	u, err := c.Unpin(ctx, "3f2a.91c0.7d14")
	require.NoError(t, err)
	require.True(t, u.Removed)

	_, err = c.Status(ctx)
	require.Equal(t, CodeNotFound, AsError(err).Code)
	_, err = c.Peers(ctx)
	require.Equal(t, CodeTimeout, AsError(err).Code)

	_, err = Listen(sock, echoBackend{})
	require.ErrorContains(t, err, "another pilot daemon")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	_, err = c.Identity(ctx)
	require.Equal(t, CodeNotRunning, AsError(err).Code)
}

// FuzzHandler sends arbitrary request bodies and paths to the API: it must
// always answer with a well-formed envelope and never panic.
func FuzzHandler(f *testing.F) {
	h := NewHandler(echoBackend{})
	f.Add("/v1/ping", `{"address":"3f2a.91c0.7d14","count":3}`)
	f.Add("/v1/ping", `{"address":1}`)
	f.Add("/v1/ping", `{"bogus":true}`)
	f.Add("/v1/resolve/zzzz", ``)
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#%") {
			return
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return // not a request the HTTP server would hand to the handler
		}
		for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			req := httptest.NewRequest(method, "http://pilot"+path, strings.NewReader(body))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 300 && rec.Code < 400 {
				continue // the mux cleans paths with redirects
			}
			var env Envelope
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatalf("%s %q: not an envelope: %q", method, path, rec.Body.String())
			}
			if env.Status != "ok" && (env.Status != "error" || env.Code == "") {
				t.Fatalf("%s %q: bad envelope %+v", method, path, env)
			}
		}
	})
}

// streamBackend adds streaming and raw streams to echoBackend.
type streamBackend struct {
	echoBackend
	echoAddr string // a TCP echo server standing in for a Pilot port
}

func (streamBackend) Events(ctx context.Context, emit func(LocalEvent) error) error {
	for i := range 3 {
		if err := emit(LocalEvent{Kind: "tick", Detail: map[string]string{"n": strconv.Itoa(i)}}); err != nil {
			return err
		}
	}
	return Errorf(CodeTimeout, "", "stream ended")
}

func (b streamBackend) DialPort(ctx context.Context, address string, port uint16) (net.Conn, error) {
	if port == 0 {
		return nil, Errorf(CodeTrustRequired, "pilot trust request", "port %d needs trust", port)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", b.echoAddr)
}

func TestStreamsAndUpgrade(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.(*net.TCPConn).CloseWrite() }()
		}
	}()
	sock := filepath.Join(t.TempDir(), "pilot.sock")
	s, err := Listen(sock, streamBackend{echoAddr: ln.Addr().String()})
	require.NoError(t, err)
	defer s.Close()
	c := NewClient(sock)
	defer c.Close()
	ctx := context.Background()

	var got []string
	err = c.Events(ctx, func(e LocalEvent) error { got = append(got, e.Detail["n"]); return nil })
	require.Equal(t, []string{"0", "1", "2"}, got)
	require.Equal(t, CodeTimeout, AsError(err).Code, "an error after streaming arrives as the last line")

	conn, err := c.Connect(ctx, "3f2a.91c0.7d14", 7)
	require.NoError(t, err)
	_, err = conn.Write([]byte("through the socket"))
	require.NoError(t, err)
	require.NoError(t, conn.(interface{ CloseWrite() error }).CloseWrite())
	back, err := io.ReadAll(conn)
	require.NoError(t, err)
	require.Equal(t, "through the socket", string(back))
	conn.Close()

	_, err = c.Connect(ctx, "3f2a.91c0.7d14", 0)
	require.Equal(t, CodeTrustRequired, AsError(err).Code)

	// Close ends upgraded streams still open.
	open, err := c.Connect(ctx, "3f2a.91c0.7d14", 7)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = io.ReadAll(open)
	require.NoError(t, err, "the stream ends (EOF) when the daemon closes")
}
