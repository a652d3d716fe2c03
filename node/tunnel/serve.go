package tunnel

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// tunnel is one expose or forward: a listener, its accept loop and the
// connections it serves.
type tunnel struct {
	m       *Manager
	id      string
	seq     uint64
	kind    Kind
	port    uint16
	local   string
	remote  string
	created time.Time
	max     int

	ln net.Listener
	// dial opens the other side of an accepted connection.
	dial func(ctx context.Context) (net.Conn, error)
	// pilotAccepted: the listener yields Pilot streams (expose); otherwise
	// it yields local TCP connections and dial yields Pilot streams.
	pilotAccepted bool

	ctx    context.Context // cancelled by shutdown: aborts dials in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup // this tunnel's goroutines

	mu     sync.Mutex
	conns  map[*tracked]struct{} // open connections, both sides
	closed bool

	active                                    atomic.Int64
	total, refused, failed, bytesIn, bytesOut atomic.Uint64
}

// tracked wraps a connection so that any net.Conn, comparable or not, can
// sit in the tunnel's set.
type tracked struct{ c net.Conn }

func (m *Manager) newTunnel(kind Kind, ln net.Listener, port uint16, local, remote string) *tunnel {
	ctx, cancel := context.WithCancel(context.Background())
	return &tunnel{
		m: m, kind: kind, port: port, local: local, remote: remote,
		created: time.Now(), max: m.maxConns(), ln: ln,
		ctx: ctx, cancel: cancel, conns: make(map[*tracked]struct{}),
	}
}

func (t *tunnel) info() Info {
	return Info{
		ID: t.id, Kind: t.kind, Port: t.port, Local: t.local, Remote: t.remote,
		Active:   int(t.active.Load()),
		Total:    t.total.Load(),
		Refused:  t.refused.Load(),
		Failed:   t.failed.Load(),
		BytesIn:  t.bytesIn.Load(),
		BytesOut: t.bytesOut.Load(),
		Created:  t.created,
	}
}

// spawn runs f in a goroutine counted by the tunnel and by the Manager.
func (t *tunnel) spawn(f func()) {
	t.m.wg.Add(1)
	t.wg.Add(1)
	go func() {
		defer t.m.wg.Done()
		defer t.wg.Done()
		f()
	}()
}

// shutdown closes the listener, cancels dials in flight and aborts every
// open connection. It is idempotent and does not wait.
func (t *tunnel) shutdown() {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	t.cancel()
	_ = t.ln.Close()
	for e := range conns {
		abort(e.c)
	}
}

// track adds c to the open set, or reports false if the tunnel is closing.
func (t *tunnel) track(c net.Conn) (*tracked, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, false
	}
	e := &tracked{c: c}
	t.conns[e] = struct{}{}
	return e, true
}

func (t *tunnel) untrack(e *tracked) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, e) // no-op once shutdown has taken the set
}

// Accept backoff on temporary errors (out of file descriptors).
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

func (t *tunnel) acceptLoop() {
	var backoff time.Duration
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if t.ctx.Err() != nil {
				return // closed by shutdown
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, minBackoff), maxBackoff)
				log.Warnf("tunnel %s: accept: %v; retrying in %v", t.id, err, backoff)
				timer := time.NewTimer(backoff)
				select {
				case <-t.ctx.Done():
					timer.Stop()
					return
				case <-timer.C:
				}
				continue
			}
			// The listener is gone (a Pilot port closed under us, say): the
			// tunnel cannot serve any more, so it closes and leaves the list.
			log.Infof("tunnel %s: accept: %v; closing the tunnel", t.id, err)
			t.m.remove(t)
			t.shutdown()
			return
		}
		backoff = 0
		if t.active.Add(1) > int64(t.max) {
			t.active.Add(-1)
			t.refused.Add(1)
			log.Debugf("tunnel %s: over %d connections, refusing one", t.id, t.max)
			abort(c)
			continue
		}
		e, ok := t.track(c)
		if !ok {
			t.active.Add(-1)
			abort(c)
			return
		}
		t.total.Add(1)
		t.spawn(func() { t.serve(c, e) })
	}
}

// serve dials the other side for c and splices the two.
func (t *tunnel) serve(c net.Conn, ec *tracked) {
	defer t.active.Add(-1)
	defer t.untrack(ec)
	other, err := t.dial(t.ctx)
	if err == nil && other == nil {
		err = errors.New("dialer returned no connection and no error")
	}
	if err != nil {
		if t.ctx.Err() == nil { // not a dial cut short by Close
			t.failed.Add(1)
			if t.pilotAccepted { // a remote peer's connection: keep quiet
				log.Debugf("tunnel %s: %v", t.id, err)
			} else {
				log.Infof("tunnel %s: %v", t.id, err)
			}
		}
		abort(c)
		return
	}
	eo, ok := t.track(other)
	if !ok {
		abort(other)
		abort(c)
		return
	}
	defer t.untrack(eo)
	pilot, local := c, other
	if !t.pilotAccepted {
		pilot, local = other, c
	}
	if err := splice(pilot, local, &t.bytesIn, &t.bytesOut); err != nil && t.ctx.Err() == nil {
		log.Debugf("tunnel %s: %v", t.id, err)
	}
}
