package node

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/ports"
)

// Listen opens a Pilot port on this node. Untrusted peers reach it only if
// the port is public (SetPortPublic).
func (n *Node) Listen(port uint16) (*ports.Listener, error) {
	if err := n.running(); err != nil {
		return nil, err
	}
	return n.ports.Listen(port)
}

// Dial opens a stream to "addr:port" (a Pilot socket address). It resolves
// the address, prefers a direct connection to trusted peers, and reports
// ports.ErrTrustRequired when the remote refuses an untrusted dialer.
func (n *Node) Dial(ctx context.Context, target string) (*ports.Conn, error) {
	sa, err := addressing.ParseSocket(target)
	if err != nil {
		return nil, err
	}
	return n.DialAddr(ctx, sa.Addr, sa.Port)
}

// DialAddr is Dial with the address and port apart. The stream opens at
// once on the best connection there is — over the relay if that is the
// only one (never go-libp2p's silent wait for a direct connection). For a
// trusted peer reached only through a relay, a direct connection is
// sought in the background; later streams use it once it exists (a stream
// stays on the connection it was opened on). For bulk data use DialBulk.
func (n *Node) DialAddr(ctx context.Context, a addressing.Addr, port uint16) (*ports.Conn, error) {
	return n.dial(ctx, a, port, false)
}

func (n *Node) dial(ctx context.Context, a addressing.Addr, port uint16, bulk bool) (*ports.Conn, error) {
	id, err := n.Connect(ctx, a)
	if err != nil {
		return nil, err
	}
	n.preferDirect(ctx, id, bulk)
	c, err := n.ports.Dial(ctx, id, port)
	if err != nil {
		return nil, fmt.Errorf("node: dial %s:%d: %w", a, port, err)
	}
	return c, nil
}

// maxEcho bounds what the echo service returns on one stream.
const maxEcho = 1 << 20

// serveEcho runs the echo service (port 7) until l closes.
func (n *Node) serveEcho(l *ports.Listener) {
	defer n.wg.Done()
	for {
		c, err := l.AcceptConn()
		if err != nil {
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			_, _ = io.Copy(c, io.LimitReader(c, maxEcho))
		}()
	}
}

// Echo sends text to a's echo port and returns what came back.
func (n *Node) Echo(ctx context.Context, a addressing.Addr, text string) (string, time.Duration, error) {
	if len(text) > maxEcho {
		return "", 0, fmt.Errorf("node: echo: %d bytes, over the %d limit", len(text), maxEcho)
	}
	start := time.Now()
	c, err := n.DialAddr(ctx, a, ports.PortEcho)
	if err != nil {
		return "", 0, err
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	if _, err := io.Copy(c, strings.NewReader(text)); err != nil {
		return "", 0, fmt.Errorf("node: echo to %s: %w", a, err)
	}
	if err := c.CloseWrite(); err != nil {
		return "", 0, fmt.Errorf("node: echo to %s: %w", a, err)
	}
	b, err := io.ReadAll(io.LimitReader(c, maxEcho))
	if err != nil {
		return "", 0, fmt.Errorf("node: echo from %s: %w", a, err)
	}
	return string(b), time.Since(start), nil
}
