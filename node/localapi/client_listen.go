package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
)

// PortListener is a Pilot port the daemon holds open for this client: a
// net.Listener whose Accept returns every inbound stream on the port, until
// Close (see POST /v1/listen/hold). Accept may be called from several
// goroutines.
type PortListener struct {
	c      *Client
	port   uint16
	ctl    net.Conn
	mu     sync.Mutex // serialises reads of the control stream
	rd     *bufio.Reader
	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	once   sync.Once
}

var _ net.Listener = (*PortListener)(nil)

// ListenPort opens port on the daemon and keeps it open until the returned
// listener is closed. ctx bounds opening the port only.
func (c *Client) ListenPort(ctx context.Context, port uint16) (*PortListener, error) {
	ctl, err := c.upgrade(ctx, "/v1/listen/hold", acceptRequest{Port: port})
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	return &PortListener{c: c, port: port, ctl: ctl, rd: bufio.NewReader(ctl), ctx: lctx, cancel: cancel}, nil
}

// maxInboundLine bounds one announcement line from the daemon.
const maxInboundLine = 4 << 10

// Accept waits for the next inbound stream. After Close it returns an
// error wrapping net.ErrClosed. A stream that vanished between its
// announcement and its taking (the dialer gave up) is skipped.
func (l *PortListener) Accept() (net.Conn, error) {
	for {
		in, err := l.next()
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(l.ctx, takeTimeout)
		conn, err := l.c.upgrade(ctx, "/v1/listen/take", takeRequest{Token: in.Token})
		cancel()
		if err != nil {
			if l.closed() {
				return nil, l.closedErr()
			}
			if AsError(err).Code == CodeNotRunning {
				return nil, err
			}
			continue
		}
		return &portConn{Conn: conn, local: PortAddr("local:" + strconv.Itoa(int(l.port))), remote: PortAddr(in.Remote)}, nil
	}
}

// next reads one announcement from the control stream.
func (l *PortListener) next() (Inbound, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed() {
		return Inbound{}, l.closedErr()
	}
	line, err := readLine(l.rd, maxInboundLine)
	if err != nil {
		if l.closed() {
			return Inbound{}, l.closedErr()
		}
		return Inbound{}, Errorf(CodeInternal, "the daemon may have stopped; check it with `pilot status`", "listen on port %d: the daemon closed the port: %v", l.port, err)
	}
	in, ok := parseInbound(line)
	if !ok {
		return Inbound{}, Errorf(CodeInternal, "the CLI and the daemon may be different versions", "listen on port %d: bad announcement %.200q", l.port, line)
	}
	return in, nil
}

// parseInbound decodes one announcement line: an ok-envelope whose data
// is an Inbound with a token.
func parseInbound(line []byte) (Inbound, bool) {
	var env Envelope
	var in Inbound
	if err := json.Unmarshal(line, &env); err != nil || env.Status != "ok" || json.Unmarshal(env.Data, &in) != nil || in.Token == "" {
		return Inbound{}, false
	}
	return in, true
}

// readLine reads up to '\n', refusing lines longer than max.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		frag, err := r.ReadSlice('\n')
		out = append(out, frag...)
		if len(out) > max {
			return nil, fmt.Errorf("line over %d bytes", max)
		}
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

func (l *PortListener) closed() bool {
	return l.ctx.Err() != nil
}

func (l *PortListener) closedErr() error {
	return fmt.Errorf("localapi: accept on port %d: %w", l.port, net.ErrClosed)
}

// Close frees the port: the daemon stops accepting on it and resets
// streams it announced that were not taken. Streams already accepted stay
// open. It is idempotent.
func (l *PortListener) Close() error {
	l.once.Do(func() {
		l.cancel()
		l.ctl.Close()
	})
	return nil
}

// Addr returns the port as a net.Addr ("pilot", "local:<port>").
func (l *PortListener) Addr() net.Addr { return PortAddr("local:" + strconv.Itoa(int(l.port))) }

// Port returns the Pilot port number.
func (l *PortListener) Port() uint16 { return l.port }

// PortAddr is a Pilot socket address ("3f2a.91c0.7d14:80") as a net.Addr.
type PortAddr string

// Network returns "pilot".
func (PortAddr) Network() string { return "pilot" }

// String returns the address.
func (a PortAddr) String() string { return string(a) }

// portConn is an accepted stream: the socket connection, with the Pilot
// addresses of both ends.
type portConn struct {
	net.Conn
	local, remote net.Addr
}

func (c *portConn) LocalAddr() net.Addr  { return c.local }
func (c *portConn) RemoteAddr() net.Addr { return c.remote }

// CloseWrite half-closes the stream.
func (c *portConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return errors.New("localapi: connection cannot half-close")
}
