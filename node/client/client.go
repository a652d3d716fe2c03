package client

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

// SocketName is the local API socket's file name inside a node's home.
const SocketName = "pilot.sock"

// Client talks to one daemon over its local API socket. It is safe for
// concurrent use; it connects on the first call, not in New.
type Client struct {
	api    *localapi.Client
	socket string
}

// New returns a client of the daemon whose home folder or socket is path:
// a path ending in ".sock", or naming something that is not a folder, is
// taken as the socket itself; anything else as a home, whose socket is
// <home>/pilot.sock.
func New(path string) *Client {
	sock := path
	if !strings.HasSuffix(path, ".sock") {
		if st, err := os.Stat(path); err != nil || st.IsDir() {
			sock = filepath.Join(path, SocketName)
		}
	}
	return &Client{api: localapi.NewClient(sock), socket: sock}
}

// Default returns a client of the daemon in node.DefaultHome()
// ($PILOT_HOME, else ~/.pilot), the one `pilot` commands use without
// --home.
func Default() *Client { return New(node.DefaultHome()) }

// Socket returns the path of the socket the client talks to.
func (c *Client) Socket() string { return c.socket }

// Close releases the client's idle connections to the daemon. Streams and
// listeners it opened stay open until closed themselves.
func (c *Client) Close() error {
	c.api.Close()
	return nil
}

// Dial opens a stream to port on the agent at address (a Pilot address
// like 3f2a.91c0.7d14, or a hostname). The stream is reliable, ordered and
// encrypted end to end; the returned conn also has CloseWrite() error, to
// half-close it. ctx bounds the dial only. A port the agent keeps private
// fails with CodeTrustRequired until it trusts this node; one where nothing
// listens, with CodeConnectionFailed.
func (c *Client) Dial(ctx context.Context, address string, port uint16) (net.Conn, error) {
	return c.api.Connect(ctx, address, port)
}

// Listen opens port on the daemon's node and keeps it open until the
// returned listener is closed: Accept returns every inbound stream, with
// the dialer's Pilot socket address as RemoteAddr. ctx bounds opening the
// port only. The port follows the node's port policy: private (trusted
// agents only) unless made public with SetPortPublic. A port already open
// fails with CodeInvalidArgument.
func (c *Client) Listen(ctx context.Context, port uint16) (net.Listener, error) {
	l, err := c.api.ListenPort(ctx, port)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// AcceptOne opens port, waits (bounded by ctx) for one inbound stream,
// closes the port again and returns the stream — what `pilot listen` does.
// For a server, use Listen.
func (c *Client) AcceptOne(ctx context.Context, port uint16) (net.Conn, error) {
	return c.api.Listen(ctx, port)
}
