package ports

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// backlogSize bounds streams accepted by the policy but not yet taken by
// Accept; past it new streams wait up to backlogWait for a place, then are
// refused as overloaded.
const backlogSize = 64

// backlogWait is how long a stream waits for a place in a full backlog.
// A burst (a thousand streams opened at once) fills the backlog faster
// than a busy machine schedules the accepting goroutine, though it keeps
// up; only a listener that stops accepting should refuse. The wait stays
// below the dialer's statusTimeoutAfter, so the dialer hears "overloaded"
// rather than nothing. The waiting streams are bounded by the resource
// manager's per-protocol stream limits (node/rcmgr.go).
const backlogWait = statusTimeoutAfter / 2

// Listener is an open port. It implements net.Listener.
type Listener struct {
	mux     *Mux
	port    uint16
	backlog chan *Conn
	slots   chan struct{}
	once    sync.Once
	done    chan struct{}
}

var _ net.Listener = (*Listener)(nil)

// Port returns the port number.
func (l *Listener) Port() uint16 { return l.port }

// handle runs for every inbound stream on the port, in a libp2p goroutine.
func (l *Listener) handle(s network.Stream) {
	l.mux.handlers.Add(1)
	defer l.mux.handlers.Done()
	_ = s.SetWriteDeadline(time.Now().Add(statusTimeoutAfter))
	if !l.mux.policy.Allowed(s.Conn().RemotePeer(), l.port) {
		_, _ = s.Write([]byte{statusTrustNeeded})
		_ = s.CloseWrite()
		_ = s.Close()
		return
	}
	if !l.reserve(s) {
		return
	}
	// The status goes out before the listener can see the stream, so the
	// application's first bytes never overtake it.
	if _, err := s.Write([]byte{statusOK}); err != nil {
		<-l.slots
		s.Reset()
		return
	}
	_ = s.SetWriteDeadline(time.Time{})
	l.backlog <- newConn(s, l.port)
	select {
	case <-l.done: // closed meanwhile: nobody will accept it
		l.drain()
	default:
	}
}

// reserve takes a place in the backlog for s, freed by Accept, waiting
// up to backlogWait for one. It answers s itself when there is none: reset
// if the listener closed, "overloaded" if the backlog stayed full.
func (l *Listener) reserve(s network.Stream) bool {
	select {
	case <-l.done:
		s.Reset()
		return false
	case l.slots <- struct{}{}:
		return true
	default:
	}
	wait := time.NewTimer(backlogWait)
	defer wait.Stop()
	select {
	case <-l.done:
		s.Reset()
		return false
	case l.slots <- struct{}{}:
		return true
	case <-wait.C:
		_, _ = s.Write([]byte{statusOverloaded})
		_ = s.CloseWrite() // not Reset: it would discard the status byte
		_ = s.Close()
		return false
	}
}

// drain resets streams that were queued but never accepted.
func (l *Listener) drain() {
	for {
		select {
		case c := <-l.backlog:
			<-l.slots
			c.s.Reset()
		default:
			return
		}
	}
}

// Accept waits for the next inbound stream.
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptConn() }

// AcceptConn is Accept returning the concrete type.
func (l *Listener) AcceptConn() (*Conn, error) {
	select {
	case <-l.done:
		return nil, fmt.Errorf("ports: accept on %d: %w", l.port, ErrClosed)
	default:
	}
	select {
	case c := <-l.backlog:
		<-l.slots
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("ports: accept on %d: %w", l.port, ErrClosed)
	}
}

// Close stops accepting, resets streams not yet accepted and frees the
// port. It is idempotent.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.mux.remove(l)
		l.drain()
	})
	return nil
}

// Addr returns the listening port as a net.Addr.
func (l *Listener) Addr() net.Addr {
	return Addr{Peer: l.mux.h.ID(), Port: l.port}
}
