package tunnel

import (
	"context"
	"crypto/sha256"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/ports"
)

func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	require.NoError(t, err)
	t.Cleanup(func() { h.Close() })
	return h
}

// p2pRig is the real thing: B exposes target on a Pilot port of its libp2p
// host, A forwards a loopback listener to it through ports.Mux.Dial.
type p2pRig struct {
	a, b            *Manager
	expose, forward Info
}

func newP2PRig(t testing.TB, target string, policy ports.Policy) *p2pRig {
	t.Helper()
	ha, hb := newHost(t), newHost(t)
	require.NoError(t, ha.Connect(context.Background(), peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()}))
	ma, mb := ports.New(ha, nil), ports.New(hb, policy)
	t.Cleanup(func() { ma.Close(); mb.Close() })
	a, b := NewManager(), NewManager()
	t.Cleanup(func() { a.CloseAll(); b.CloseAll() })

	const port = 8080
	l, err := mb.Listen(port)
	require.NoError(t, err)
	ei, err := b.Expose(l, port, target)
	require.NoError(t, err)
	fi, err := a.Forward("127.0.0.1:0", "b:8080", func(ctx context.Context) (net.Conn, error) {
		c, err := ma.Dial(ctx, hb.ID(), port)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
	require.NoError(t, err)
	return &p2pRig{a: a, b: b, expose: ei, forward: fi}
}

func TestOverPilotPorts(t *testing.T) {
	checkLeaks(t)
	body := randomBytes(1<<20, 5)
	want := sha256.Sum256(body)
	srv := fileServer(t, body)
	r := newP2PRig(t, srv.Listener.Addr().String(), nil)

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := client.Get("http://" + r.forward.Local + "/file.bin")
	require.NoError(t, err)
	h := sha256.New()
	_, err = io.Copy(h, resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, want[:], h.Sum(nil))

	// Half-close crosses the libp2p stream (ports.Conn.CloseWrite).
	echoSrv := newServer(t, echoAfterEOF)
	r2 := newP2PRig(t, echoSrv.addr(), nil)
	c := dial(t, r2.forward.Local)
	require.NoError(t, c.SetDeadline(time.Now().Add(waitFor)))
	msg := randomBytes(200<<10, 6)
	_, err = c.Write(msg)
	require.NoError(t, err)
	require.NoError(t, c.CloseWrite())
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	require.Equal(t, msg, got)

	// Closing the expose resets the stream; the forward's client sees it.
	echo2 := newServer(t, echo)
	r3 := newP2PRig(t, echo2.addr(), nil)
	c3 := dial(t, r3.forward.Local)
	roundTrip(t, c3, "over pilot")
	require.NoError(t, r3.b.Close(r3.expose.ID))
	requireEnds(t, c3)
}

// A private port refuses an untrusted peer: the forward's dial fails with
// ports.ErrTrustRequired and its client connection ends at once.
func TestOverPilotPortsPolicy(t *testing.T) {
	checkLeaks(t)
	srv := newServer(t, echo)
	deny := ports.PolicyFunc(func(peer.ID, uint16) bool { return false })
	r := newP2PRig(t, srv.addr(), deny)
	requireRefused(t, r.forward.Local)
	require.Eventually(t, func() bool { return r.a.List()[0].Failed == 1 }, waitFor, tick)
	require.Zero(t, r.b.List()[0].Total, "nothing reached the exposed target")
}
