// Package tunnel carries TCP services across Pilot ports, so that an
// HTTP-based agent protocol (an A2A or MCP endpoint) works between agents
// that have no public address.
//
// A tunnel has two ends, usually on two nodes:
//
//   - Expose serves a local TCP service on a Pilot port: every stream
//     accepted on the port is spliced to a fresh TCP connection to the
//     target host:port.
//   - Forward listens on a local TCP address (loopback unless the Manager
//     allows otherwise) and carries every accepted connection to a remote
//     Pilot address and port, through a Dialer the caller supplies.
//
// Both directions are copied concurrently with pooled 32 KiB buffers, and
// half-closes are passed on: when one side stops writing, the other side's
// write half is shut down and the reverse direction keeps flowing. An error
// in either direction aborts both connections. Who may open an exposed
// port is not decided here: the Pilot port listener handed to Expose applies
// the node's port policy (private ports admit trusted peers only).
//
// The package knows nothing of node.Node: Expose takes any net.Listener and
// Forward any Dialer. See docs/tunnels.md.
package tunnel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"time"

	logging "github.com/ipfs/go-log/v2"
)

var log = logging.Logger("pilot/tunnel")

// Defaults of the Manager's zero-valued fields.
const (
	DefaultMaxConns           = 256
	DefaultDialTimeout        = 10 * time.Second
	DefaultForwardDialTimeout = 30 * time.Second
	// targetKeepAlive is the TCP keepalive idle time and probe interval on
	// the connections Expose dials to its target.
	targetKeepAlive = 30 * time.Second
)

// Errors callers can branch on.
var (
	// ErrNotFound: no tunnel has that ID.
	ErrNotFound = errors.New("no such tunnel")
	// ErrClosed: the Manager is closed (CloseAll was called).
	ErrClosed = errors.New("tunnel manager closed")
	// ErrInvalidAddress: an Expose target or a Forward listen address is
	// not a usable host:port.
	ErrInvalidAddress = errors.New("invalid address")
	// ErrNonLoopback: Forward was asked to listen on a non-loopback
	// address and the Manager does not allow it.
	ErrNonLoopback = errors.New("refusing a non-loopback listen address")
)

// Dialer opens a stream to the remote side of a forward, typically a Pilot
// port on another node (a *ports.Conn). It is called concurrently, once per
// accepted connection. ctx bounds the dial only: the returned connection
// must outlive it. A connection with CloseWrite() error gets half-closes
// passed on; one with Reset() error is reset on abort.
type Dialer func(ctx context.Context) (net.Conn, error)

// Kind tells the two ends of a tunnel apart.
type Kind string

// The kinds of tunnel.
const (
	KindExpose  Kind = "expose"
	KindForward Kind = "forward"
)

// Info describes a tunnel. Byte counts are seen from the Pilot side:
// BytesIn arrived over Pilot, BytesOut was sent over Pilot.
type Info struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Port is the Pilot port: the exposed one, or the one a forward
	// reaches (parsed from Remote; 0 when Remote has no numeric port).
	Port uint16 `json:"port"`
	// Local is, for expose, the target host:port; for forward, the local
	// address actually bound (the kernel's choice for port 0).
	Local string `json:"local"`
	// Remote is, for forward, the "addr:port" it reaches, for display.
	Remote   string    `json:"remote,omitempty"`
	Active   int       `json:"active"`  // open connections
	Total    uint64    `json:"total"`   // connections accepted and served
	Refused  uint64    `json:"refused"` // connections closed at once: over MaxConns
	Failed   uint64    `json:"failed"`  // connections whose dial to the other side failed
	BytesIn  uint64    `json:"bytes_in"`
	BytesOut uint64    `json:"bytes_out"`
	Created  time.Time `json:"created"`
}

// Manager runs tunnels. Set its exported fields before the first Expose or
// Forward and leave them alone after. Its methods are safe for concurrent
// use.
type Manager struct {
	// AllowNonLoopback lets Forward listen on addresses other than
	// loopback (a LAN interface, or every interface). Default false:
	// exposing a tunnel to the network must be an explicit choice.
	AllowNonLoopback bool
	// MaxConns bounds the open connections of each tunnel; past it a new
	// connection is closed at once and counted in Info.Refused. Default
	// (0) DefaultMaxConns.
	MaxConns int
	// DialTimeout bounds Expose's TCP dial to its target. Default (0)
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// ForwardDialTimeout bounds each call of a forward's Dialer (a Pilot
	// dial may need a lookup and a relay). Default (0)
	// DefaultForwardDialTimeout.
	ForwardDialTimeout time.Duration

	mu      sync.Mutex
	tunnels map[string]*tunnel
	seq     uint64
	closed  bool
	wg      sync.WaitGroup // every goroutine of every tunnel
}

// NewManager returns a Manager with the defaults.
func NewManager() *Manager { return &Manager{tunnels: make(map[string]*tunnel)} }

// Expose serves target, a TCP host:port, on the Pilot port listener l (the
// listener of port, which Info reports). For every connection l accepts
// it dials target within DialTimeout, with TCP keepalive, and splices the
// two; a failed dial aborts the Pilot stream at once. Expose takes l over:
// the tunnel closes it, and so does Expose when it fails.
func (m *Manager) Expose(l net.Listener, port uint16, target string) (Info, error) {
	if l == nil {
		return Info{}, fmt.Errorf("tunnel: expose port %d: nil listener", port)
	}
	if err := checkTarget(target); err != nil {
		_ = l.Close()
		return Info{}, fmt.Errorf("tunnel: expose port %d: %w", port, err)
	}
	d := &net.Dialer{
		Timeout: m.dialTimeout(),
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: targetKeepAlive, Interval: targetKeepAlive, Count: 4,
		},
	}
	t := m.newTunnel(KindExpose, l, port, target, "")
	t.pilotAccepted = true
	t.dial = func(ctx context.Context) (net.Conn, error) {
		c, err := d.DialContext(ctx, "tcp", target)
		if err != nil {
			return nil, fmt.Errorf("dial target: %w", err)
		}
		return c, nil
	}
	info, err := m.start(t)
	if err != nil {
		return Info{}, fmt.Errorf("tunnel: expose port %d: %w", port, err)
	}
	return info, nil
}

// Forward listens on listenAddr (host:port; port 0 lets the kernel choose,
// Info.Local tells the result) and carries every accepted connection to
// the remote side through dial. remote is only shown in Info. Unless
// AllowNonLoopback is set, listenAddr must be a loopback address or
// "localhost" (ErrNonLoopback otherwise).
func (m *Manager) Forward(listenAddr string, remote string, dial Dialer) (Info, error) {
	if dial == nil {
		return Info{}, fmt.Errorf("tunnel: forward %s to %s: nil dialer", listenAddr, remote)
	}
	if err := checkListenAddr(listenAddr, m.AllowNonLoopback); err != nil {
		return Info{}, fmt.Errorf("tunnel: forward to %s: %w", remote, err)
	}
	if m.isClosed() {
		return Info{}, fmt.Errorf("tunnel: forward %s to %s: %w", listenAddr, remote, ErrClosed)
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return Info{}, fmt.Errorf("tunnel: forward %s to %s: %w", listenAddr, remote, err)
	}
	if !m.AllowNonLoopback && !isLoopbackAddr(ln.Addr()) { // "localhost" resolved elsewhere
		_ = ln.Close()
		return Info{}, fmt.Errorf("tunnel: forward to %s: %w", remote, nonLoopback(ln.Addr().String()))
	}
	timeout := m.forwardDialTimeout()
	t := m.newTunnel(KindForward, ln, remotePort(remote), ln.Addr().String(), remote)
	t.dial = func(ctx context.Context) (net.Conn, error) {
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c, err := dial(dctx)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", remote, err)
		}
		return c, nil
	}
	info, err := m.start(t)
	if err != nil {
		return Info{}, fmt.Errorf("tunnel: forward %s to %s: %w", listenAddr, remote, err)
	}
	return info, nil
}

// List describes every open tunnel, oldest first.
func (m *Manager) List() []Info {
	m.mu.Lock()
	ts := make([]*tunnel, 0, len(m.tunnels))
	for _, t := range m.tunnels {
		ts = append(ts, t)
	}
	m.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].seq < ts[j].seq })
	out := make([]Info, len(ts))
	for i, t := range ts {
		out[i] = t.info()
	}
	return out
}

// Get describes the tunnel id, or fails with ErrNotFound.
func (m *Manager) Get(id string) (Info, error) {
	m.mu.Lock()
	t, ok := m.tunnels[id]
	m.mu.Unlock()
	if !ok {
		return Info{}, fmt.Errorf("tunnel: %q: %w", id, ErrNotFound)
	}
	return t.info(), nil
}

// Close closes the tunnel id: its listener and every open connection
// (aborted, not drained). It returns once all of the tunnel's goroutines
// have ended. An unknown id gives ErrNotFound.
func (m *Manager) Close(id string) error {
	m.mu.Lock()
	t, ok := m.tunnels[id]
	delete(m.tunnels, id)
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("tunnel: close %q: %w", id, ErrNotFound)
	}
	t.shutdown()
	t.wg.Wait()
	return nil
}

// CloseAll closes every tunnel and the Manager: later Expose and Forward
// calls fail with ErrClosed. It waits for every goroutine the Manager
// started, and is idempotent.
func (m *Manager) CloseAll() error {
	m.mu.Lock()
	m.closed = true
	ts := make([]*tunnel, 0, len(m.tunnels))
	for _, t := range m.tunnels {
		ts = append(ts, t)
	}
	clear(m.tunnels)
	m.mu.Unlock()
	for _, t := range ts {
		t.shutdown()
	}
	m.wg.Wait()
	return nil
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// start registers t and runs its accept loop, or closes its listener if
// the Manager is closed.
func (m *Manager) start(t *tunnel) (Info, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		t.shutdown()
		return Info{}, ErrClosed
	}
	if m.tunnels == nil {
		m.tunnels = make(map[string]*tunnel)
	}
	m.seq++
	t.seq = m.seq
	t.id = "t" + strconv.FormatUint(t.seq, 10)
	m.tunnels[t.id] = t
	// Under m.mu, so CloseAll cannot start waiting before this Add.
	t.spawn(t.acceptLoop)
	m.mu.Unlock()
	return t.info(), nil
}

// remove forgets t if it is still registered (its listener failed).
func (m *Manager) remove(t *tunnel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tunnels[t.id] == t {
		delete(m.tunnels, t.id)
	}
}

func (m *Manager) maxConns() int {
	if m.MaxConns > 0 {
		return m.MaxConns
	}
	return DefaultMaxConns
}

func (m *Manager) dialTimeout() time.Duration {
	if m.DialTimeout > 0 {
		return m.DialTimeout
	}
	return DefaultDialTimeout
}

func (m *Manager) forwardDialTimeout() time.Duration {
	if m.ForwardDialTimeout > 0 {
		return m.ForwardDialTimeout
	}
	return DefaultForwardDialTimeout
}
