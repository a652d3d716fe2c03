package localapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// A held port: many inbound streams over the socket.
//
// POST /v1/listen returns one inbound stream and frees the port. A program
// that serves a port (an HTTP server on a Pilot port) needs the port to stay
// open and every stream to reach it, so two more routes exist:
//
//   - POST /v1/listen/hold {"port":N} opens the port and upgrades the
//     socket connection to a control stream. For every inbound stream the
//     daemon writes one ok-envelope line whose data is an Inbound (a
//     one-time token and the dialer's Pilot socket address). The port stays
//     open until the client closes the control stream (or the daemon
//     stops); streams announced but not taken are then reset.
//   - POST /v1/listen/take {"token":"…"} upgrades a new socket connection
//     to the announced stream. A token works once, and only for
//     takeTimeout after it was announced.

// ListenBackend is implemented by a Backend that can hold a port open for
// many inbound streams (the daemon's node does). ListenPort opens port and
// returns its listener; the server closes it when the holding client goes
// away. It is called from HTTP handler goroutines, concurrently.
type ListenBackend interface {
	ListenPort(port uint16) (net.Listener, error)
}

// Inbound announces one stream waiting on a held port.
type Inbound struct {
	Token  string `json:"token"`  // for POST /v1/listen/take; valid once
	Remote string `json:"remote"` // the dialer, as a Pilot socket address
}

// takeRequest claims an announced stream.
type takeRequest struct {
	Token string `json:"token"`
}

// Limits of a held port.
const (
	// maxUntaken bounds the streams one hold has announced and not yet
	// seen taken; past it the daemon stops accepting on the port, whose
	// own backlog then fills and refuses dialers as overloaded.
	maxUntaken = 64
	// takeTimeout is how long an announced stream waits to be taken.
	takeTimeout = 30 * time.Second
)

// pendingStream is an announced stream not yet taken.
type pendingStream struct {
	conn    net.Conn
	release func() // frees the hold's slot; called exactly once
	timer   *time.Timer
}

// pendingStreams are the announced streams of every hold, by token.
type pendingStreams struct {
	mu sync.Mutex
	m  map[string]*pendingStream
}

// newToken returns 128 random bits in hex.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// add registers c under tok; it is closed if not taken in time.
func (p *pendingStreams) add(tok string, c net.Conn, release func()) {
	ps := &pendingStream{conn: c, release: release}
	p.mu.Lock()
	if p.m == nil {
		p.m = make(map[string]*pendingStream)
	}
	p.m[tok] = ps
	ps.timer = time.AfterFunc(takeTimeout, func() { p.drop(tok) })
	p.mu.Unlock()
}

// take removes and returns the stream of tok, or nil.
func (p *pendingStreams) take(tok string) net.Conn {
	p.mu.Lock()
	ps := p.m[tok]
	delete(p.m, tok)
	p.mu.Unlock()
	if ps == nil {
		return nil
	}
	ps.timer.Stop()
	ps.release()
	return ps.conn
}

// drop closes the stream of tok if it is still waiting.
func (p *pendingStreams) drop(tok string) {
	if c := p.take(tok); c != nil {
		c.Close()
	}
}

func (h *handler) listenRoutes() {
	var pend pendingStreams
	h.mux.HandleFunc("POST /v1/listen/hold", func(w http.ResponseWriter, r *http.Request) {
		var req acceptRequest
		if !decode(w, r, &req) {
			return
		}
		if req.Port == 0 {
			writeError(w, Errorf(CodeInvalidArgument, "ports are 1 to 65535", "port 0 is not a port"))
			return
		}
		lb, ok := h.b.(ListenBackend)
		if !ok {
			writeError(w, unsupported("holding a port open"))
			return
		}
		l, err := lb.ListenPort(req.Port)
		if err != nil {
			writeError(w, AsError(err))
			return
		}
		h.hold(w, l, &pend)
	})
	h.mux.HandleFunc("POST /v1/listen/take", func(w http.ResponseWriter, r *http.Request) {
		var req takeRequest
		if !decode(w, r, &req) {
			return
		}
		c := pend.take(req.Token)
		if c == nil {
			writeError(w, Errorf(CodeNotFound, "a token works once, within 30 s of its announcement", "no stream waits under that token"))
			return
		}
		h.sp.upgrade(w, c)
	})
}

// hold upgrades the request to a control stream and announces every
// stream l accepts on it, until the client or the server closes it. l is
// closed when it returns, and the streams it announced that were not taken
// are reset.
func (h *handler) hold(w http.ResponseWriter, l net.Listener, pend *pendingStreams) {
	h.sp.wg.Add(1)
	defer h.sp.wg.Done()
	defer l.Close()
	local, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, AsError(fmt.Errorf("upgrade: %w", err)))
		return
	}
	defer local.Close()
	if !h.sp.track(local) {
		return
	}
	defer h.sp.untrack(local)
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + upgradeHeader + "\r\n\r\n")
	if err := rw.Flush(); err != nil {
		return
	}
	// The client sends nothing more: its EOF (or the server closing local)
	// ends the hold.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		_, _ = io.Copy(io.Discard, rw.Reader)
		l.Close()
	}()
	defer func() { local.Close(); <-gone }()

	var mine sync.Map // tokens of this hold's streams not yet taken
	defer mine.Range(func(tok, _ any) bool { pend.drop(tok.(string)); return true })
	slots := make(chan struct{}, maxUntaken)
	enc := json.NewEncoder(local)
	for {
		select {
		case slots <- struct{}{}:
		case <-gone:
			return
		}
		c, err := l.Accept()
		if err != nil {
			return
		}
		tok, err := newToken()
		if err != nil {
			c.Close()
			return
		}
		mine.Store(tok, nil)
		pend.add(tok, c, func() { mine.Delete(tok); <-slots })
		data, _ := json.Marshal(Inbound{Token: tok, Remote: c.RemoteAddr().String()})
		if err := enc.Encode(Envelope{Status: "ok", Data: data}); err != nil {
			return
		}
	}
}
