package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/client"
)

func TestNewPath(t *testing.T) {
	home := t.TempDir()
	file := filepath.Join(home, "custom")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	for _, tc := range []struct{ in, want string }{
		{home, filepath.Join(home, "pilot.sock")},                      // a home folder
		{filepath.Join(home, "x.sock"), filepath.Join(home, "x.sock")}, // a socket path
		{filepath.Join(home, "absent"), filepath.Join(home, "absent", "pilot.sock")},
		{file, file}, // an existing non-folder is the socket
	} {
		require.Equal(t, tc.want, client.New(tc.in).Socket(), tc.in)
	}
	t.Setenv("PILOT_HOME", home)
	require.Equal(t, filepath.Join(home, "pilot.sock"), client.Default().Socket())
}

func TestNotRunning(t *testing.T) {
	c := client.New(t.TempDir())
	defer c.Close()
	_, err := c.ID(context.Background())
	require.Equal(t, client.CodeNotRunning, client.AsError(err).Code)
	_, err = c.Listen(context.Background(), 80)
	require.Equal(t, client.CodeNotRunning, client.AsError(err).Code)
	require.Nil(t, client.AsError(nil))
}

// TestCallsAgainstRealDaemon calls the typed methods against a real node
// serving its local API, and checks the answers describe that node.
func TestCallsAgainstRealDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real nodes")
	}
	ctx := t.Context()
	n, home, stop := startNode(nil, true)
	defer stop()
	c := client.New(home)
	defer c.Close()

	id, err := c.ID(ctx)
	require.NoError(t, err)
	require.Equal(t, n.Addr().String(), id.Address)
	st, err := c.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, id.PeerID, st.PeerID)
	_, err = c.Peers(ctx)
	require.NoError(t, err)

	p, err := c.SetPortPublic(ctx, 8080, true)
	require.NoError(t, err)
	require.True(t, p.Public)
	ports, err := c.Ports(ctx)
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(ports.Ports), "8080")

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	tun, err := c.Expose(ctx, 8080, strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	list, err := c.Tunnels(ctx)
	require.NoError(t, err)
	require.Len(t, list.Tunnels, 1)
	_, err = c.CloseTunnel(ctx, tun.ID)
	require.NoError(t, err)
	_, err = c.CloseTunnel(ctx, tun.ID)
	require.Equal(t, client.CodeNotFound, client.AsError(err).Code)

	prof, err := c.SetHostname(ctx, "sdk-test")
	require.NoError(t, err)
	require.Equal(t, "sdk-test", prof.Hostname)
	prof, err = c.SetTags(ctx, []string{"go", "sdk"})
	require.NoError(t, err)
	require.Equal(t, []string{"go", "sdk"}, prof.Tags)

	tl, err := c.TrustList(ctx)
	require.NoError(t, err)
	require.Zero(t, tl.Count)
	_, err = c.TrustPending(ctx)
	require.NoError(t, err)
	_, err = c.TrustRequest(ctx, id.Address, "myself")
	require.Equal(t, client.CodeInvalidArgument, client.AsError(err).Code, "trusting oneself")
	inbox, err := c.Inbox(ctx)
	require.NoError(t, err)
	require.Zero(t, inbox.Count)
	_, err = c.InboxGet(ctx, "absent")
	require.Error(t, err)
	_, err = c.Tasks(ctx)
	require.NoError(t, err)
	_, err = c.PoloStats(ctx)
	require.NoError(t, err)
	doc, err := c.Doctor(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, doc.Checks)
	require.Contains(t, []string{"ok", "warn", "fail"}, doc.Health)
	self, err := c.Polo(ctx, "")
	require.NoError(t, err)
	require.Equal(t, id.Address, self.Address)
}

// TestListenAcceptsManyStreams: one Listen serves many dialers, then
// Close frees the port and ends Accept.
func TestListenAcceptsManyStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real nodes")
	}
	ctx := t.Context()
	server, home, stop := startNode(nil, true)
	defer stop()
	peer, _, stopPeer := startNode(server.JoinAddrs(), false)
	defer stopPeer()
	c := client.New(home)
	defer c.Close()

	ln, err := c.Listen(ctx, 700)
	require.NoError(t, err)
	_, err = c.SetPortPublic(ctx, 700, true)
	require.NoError(t, err)
	accepted := make(chan error, 1)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				accepted <- err
				return
			}
			go func() {
				defer conn.Close()
				line, _ := bufio.NewReader(conn).ReadString('\n')
				fmt.Fprintf(conn, "%s %s", conn.RemoteAddr(), line)
			}()
		}
	}()

	const streams = 10
	var wg sync.WaitGroup
	for i := range streams {
		wg.Go(func() {
			var back []byte
			err := retryT(func() error {
				conn, err := peer.DialAddr(ctx, server.Addr(), 700)
				if err != nil {
					return err
				}
				defer conn.Close()
				fmt.Fprintf(conn, "stream %d\n", i)
				back, err = io.ReadAll(conn)
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			want := fmt.Sprintf("%s:700 stream %d\n", peer.Addr(), i)
			if string(back) != want {
				t.Errorf("got %q, want %q", back, want)
			}
		})
	}
	wg.Wait()
	require.NoError(t, ln.Close())
	require.ErrorIs(t, <-accepted, net.ErrClosed)
	// The port is free again.
	require.NoError(t, retryT(func() error {
		l2, err := c.Listen(ctx, 700)
		if err == nil {
			l2.Close()
		}
		return err
	}))
}

func retryT(f func() error) error { return retry(f) }
