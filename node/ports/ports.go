// Package ports carries Pilot ports over libp2p: each open port n is the
// protocol "/pilot/port/<n>/1.0.0", and a stream on it is a reliable,
// ordered, encrypted byte stream exposed as a net.Conn.
//
// Every inbound stream passes the node's Policy before anything reaches the
// listener: a port that is not public is closed to untrusted peers, and the
// dialer learns why (ErrTrustRequired) from a one-byte status the listening
// side sends first. See docs/ports.md.
package ports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	multistream "github.com/multiformats/go-multistream"
)

// Well-known ports, kept from the original Pilot Protocol.
const (
	PortEcho     uint16 = 7
	PortTrust    uint16 = 444
	PortStdio    uint16 = 1000
	PortData     uint16 = 1001
	PortEvents   uint16 = 1002
	PortTasks    uint16 = 1003
	EphemeralMin uint16 = 49152
)

// Status bytes the listening side sends before any data.
const (
	statusOK           byte = 0
	statusTrustNeeded  byte = 1
	statusOverloaded   byte = 2
	statusTimeoutAfter      = 10 * time.Second
)

// Errors a dialer can branch on.
var (
	// ErrTrustRequired: the port is private and the remote does not trust us.
	ErrTrustRequired = errors.New("the peer requires trust for this port")
	// ErrPortClosed: nothing listens on that port.
	ErrPortClosed = errors.New("port closed")
	// ErrOverloaded: the listener's backlog is full.
	ErrOverloaded = errors.New("the peer's listener is overloaded")
	// ErrInUse: a listener already holds the port.
	ErrInUse = errors.New("port already in use")
	// ErrClosed: the listener or the mux is closed.
	ErrClosed = errors.New("closed")
)

// ProtocolID is the libp2p protocol of port n.
func ProtocolID(port uint16) protocol.ID {
	return protocol.ID("/pilot/port/" + strconv.FormatUint(uint64(port), 10) + "/1.0.0")
}

// Policy decides who may open which port. Allowed is called from libp2p's
// stream-handler goroutines, concurrently, for every inbound stream, and
// must be fast and non-blocking.
type Policy interface {
	Allowed(p peer.ID, port uint16) bool
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(p peer.ID, port uint16) bool

// Allowed implements Policy.
func (f PolicyFunc) Allowed(p peer.ID, port uint16) bool { return f(p, port) }

// Mux owns the node's ports on one host.
type Mux struct {
	h      host.Host
	policy Policy
	redial func(ctx context.Context, p peer.ID) error // see SetRedial

	mu        sync.Mutex
	listeners map[uint16]*Listener
	closed    bool
	handlers  sync.WaitGroup
}

// New returns a Mux on h. A nil policy allows everyone everywhere.
func New(h host.Host, policy Policy) *Mux {
	if policy == nil {
		policy = PolicyFunc(func(peer.ID, uint16) bool { return true })
	}
	return &Mux{h: h, policy: policy, listeners: make(map[uint16]*Listener)}
}

// Close closes every listener. It is idempotent.
func (m *Mux) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	ls := make([]*Listener, 0, len(m.listeners))
	for _, l := range m.listeners {
		ls = append(ls, l)
	}
	m.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	m.handlers.Wait()
	return nil
}

// Listen opens port for inbound streams.
func (m *Mux) Listen(port uint16) (*Listener, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, fmt.Errorf("ports: listen %d: %w", port, ErrClosed)
	}
	if _, ok := m.listeners[port]; ok {
		return nil, fmt.Errorf("ports: listen %d: %w", port, ErrInUse)
	}
	l := &Listener{mux: m, port: port, backlog: make(chan *Conn, backlogSize), slots: make(chan struct{}, backlogSize), done: make(chan struct{})}
	m.listeners[port] = l
	m.h.SetStreamHandler(ProtocolID(port), l.handle)
	return l, nil
}

// Listening lists the open ports.
func (m *Mux) Listening() []uint16 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]uint16, 0, len(m.listeners))
	for p := range m.listeners {
		out = append(out, p)
	}
	return out
}

func (m *Mux) remove(l *Listener) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listeners[l.port] == l {
		delete(m.listeners, l.port)
		m.h.RemoveStreamHandler(ProtocolID(l.port))
	}
}

// notSupported reports whether err is the remote's refusal of the
// protocol: nothing listens on the port.
func notSupported(err error) bool {
	var nse multistream.ErrNotSupported[protocol.ID]
	return errors.As(err, &nse)
}

// SetRedial sets how Dial connects to a peer afresh when opening a stream
// failed and took the last connection to the peer with it: a connection
// to an earlier incarnation of a peer that restarted without its close
// reaching us, which looked alive until the stream's first packets met
// the new incarnation (a QUIC stateless reset). f should find the peer
// again and connect; Dial then tries once more. Nothing of the stream's
// data was sent, so the retry repeats nothing. Call it before the first
// Dial.
func (m *Mux) SetRedial(f func(ctx context.Context, p peer.ID) error) { m.redial = f }

// Dial opens a stream to port on p and waits for the listener's verdict.
// It works over relayed (limited) connections too: a private peer may be
// reachable only through a relay.
func (m *Mux) Dial(ctx context.Context, p peer.ID, port uint16) (*Conn, error) {
	c, err := m.dialOnce(ctx, p, port)
	if err == nil || m.redial == nil || ctx.Err() != nil || m.connected(p) {
		return c, err
	}
	if rerr := m.redial(ctx, p); rerr != nil {
		return nil, fmt.Errorf("%w (connecting again after the connection was lost: %w)", err, rerr)
	}
	return m.dialOnce(ctx, p, port)
}

// connected reports whether any connection to p, direct or relayed, is up.
func (m *Mux) connected(p peer.ID) bool {
	c := m.h.Network().Connectedness(p)
	return c == network.Connected || c == network.Limited
}

func (m *Mux) dialOnce(ctx context.Context, p peer.ID, port uint16) (*Conn, error) {
	sctx := network.WithAllowLimitedConn(ctx, "pilot-port")
	s, err := m.h.NewStream(sctx, p, ProtocolID(port))
	if err != nil {
		if notSupported(err) {
			return nil, fmt.Errorf("ports: dial %s port %d: %w", p, port, ErrPortClosed)
		}
		return nil, fmt.Errorf("ports: dial %s port %d: %w", p, port, err)
	}
	deadline := time.Now().Add(statusTimeoutAfter)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = s.SetReadDeadline(deadline)
	var status [1]byte
	if _, err := io.ReadFull(s, status[:]); err != nil {
		s.Reset()
		if notSupported(err) {
			// The peer's protocol list was stale (the port closed after
			// its last identify), so the stream was opened without
			// waiting for negotiation and the refusal arrives here.
			return nil, fmt.Errorf("ports: dial %s port %d: %w", p, port, ErrPortClosed)
		}
		return nil, fmt.Errorf("ports: dial %s port %d: no answer from the listener: %w", p, port, err)
	}
	_ = s.SetReadDeadline(time.Time{})
	switch status[0] {
	case statusOK:
		return newConn(s, port), nil
	case statusTrustNeeded:
		s.Reset()
		return nil, fmt.Errorf("ports: dial %s port %d: %w", p, port, ErrTrustRequired)
	case statusOverloaded:
		s.Reset()
		return nil, fmt.Errorf("ports: dial %s port %d: %w", p, port, ErrOverloaded)
	default:
		s.Reset()
		return nil, fmt.Errorf("ports: dial %s port %d: unknown status %d", p, port, status[0])
	}
}
