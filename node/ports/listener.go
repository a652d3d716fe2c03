package ports

import (
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// backlogSize bounds streams accepted by the policy but not yet taken by
// Accept; past it new streams are refused as overloaded.
const backlogSize = 64

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
	select {
	case <-l.done:
		s.Reset()
		return
	case l.slots <- struct{}{}: // a place in the backlog, freed by Accept
	default:
		_, _ = s.Write([]byte{statusOverloaded})
		_ = s.CloseWrite() // not Reset: it would discard the status byte
		_ = s.Close()
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
