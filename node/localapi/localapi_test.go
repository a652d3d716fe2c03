package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// echoBackend answers with what it was given.
type echoBackend struct{}

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
