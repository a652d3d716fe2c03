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

// echoIdle closes an echo stream on which no byte could be read or
// written for this long; echoLifetime closes any echo stream. A stream in
// use is not cut at 30 s (a thousand streams at once on a busy machine
// take longer than that), and a slow peer still cannot hold one forever:
// at most its per-peer limit (node/rcmgr.go), each for at most
// echoLifetime. Variables so tests can shorten them.
var (
	echoIdle     = 30 * time.Second
	echoLifetime = 2 * time.Minute
)

// serveEcho runs the echo service (port 7) until l closes.
func (n *Node) serveEcho(l *ports.Listener) {
	defer n.wg.Done()
	idle, lifetime := echoIdle, echoLifetime
	for {
		c, err := l.AcceptConn()
		if err != nil {
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer c.Close()
			echoStream(c, idle, time.Now().Add(lifetime))
		}()
	}
}

// echoStream copies what c reads back to c, up to maxEcho bytes, moving
// the deadline idle ahead after every read and write, never past end.
func echoStream(c *ports.Conn, idle time.Duration, end time.Time) {
	extend := func() bool {
		d := time.Now().Add(idle)
		if d.After(end) {
			d = end
		}
		return c.SetDeadline(d) == nil
	}
	buf := make([]byte, 32<<10)
	left := maxEcho
	for left > 0 && extend() {
		k, err := c.Read(buf[:min(len(buf), left)])
		if k > 0 {
			left -= k
			if !extend() {
				return
			}
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
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
