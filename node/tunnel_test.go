package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHTTPThroughTunnel: an HTTP server on b, exposed on a Pilot port;
// c forwards a local port to it and fetches a file 20 times at once.
// Both nodes are private; c is trusted by b, as the port is private.
func TestHTTPThroughTunnel(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	anchor, b, c := privateTrio(t)
	ctx := context.Background()

	body := make([]byte, 1<<20)
	_, _ = rand.Read(body)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()

	exp, err := b.Expose(8080, strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)

	_, err = c.Trust().Request(ctx, b.PeerID(), "tunnel test")
	require.NoError(t, err)
	eventually(t, 30*time.Second, func() error {
		if _, err := b.Trust().Approve(ctx, c.PeerID()); err != nil {
			return err
		}
		return nil
	})
	eventually(t, 30*time.Second, func() error {
		if !c.Trust().IsTrusted(b.PeerID()) {
			return errors.New("c does not see the approval yet")
		}
		return nil
	})

	fwd, err := c.Forward(ctx, "127.0.0.1:0", b.Addr().String()+":8080")
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := client.Get("http://" + fwd.Local + "/file")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("got %d bytes (%v), want the 1 MiB file", len(got), err)
			}
		})
	}
	wg.Wait()
	infos := c.Tunnels()
	require.Len(t, infos, 1)
	require.EqualValues(t, 20, infos[0].Total)

	_, err = c.CloseTunnel(fwd.ID)
	require.NoError(t, err)
	_, err = client.Get("http://" + fwd.Local + "/file")
	require.Error(t, err, "a closed forward no longer listens")
	_, err = b.CloseTunnel(exp.ID)
	require.NoError(t, err)
	for _, n := range []*Node{c, b, anchor} {
		require.NoError(t, n.Close())
	}
}
