package localapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// ndjsonWriter streams envelopes, one JSON line each. The HTTP status is
// sent with the first line, so an error before any line is an ordinary
// error response.
type ndjsonWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *ndjsonWriter) emit(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !s.started {
		s.w.Header().Set("Content-Type", "application/x-ndjson")
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	if err := json.NewEncoder(s.w).Encode(Envelope{Status: "ok", Data: data}); err != nil {
		return err
	}
	return http.NewResponseController(s.w).Flush()
}

// finish ends a stream: an error envelope as a last line, or as the whole
// response when nothing was streamed yet.
func (s *ndjsonWriter) finish(err error) {
	if err == nil {
		if !s.started {
			s.w.Header().Set("Content-Type", "application/x-ndjson")
			s.w.WriteHeader(http.StatusOK)
		}
		return
	}
	e := AsError(err)
	if !s.started {
		writeError(s.w, e)
		return
	}
	_ = json.NewEncoder(s.w).Encode(Envelope{Status: "error", Code: e.Code, Message: e.Message, Hint: e.Hint})
}

// upgradeHeader is the protocol name of a raw byte stream over the socket.
const upgradeHeader = "pilot-stream"

// splicer tracks hijacked connections so the server can end them on Close.
type splicer struct {
	mu     sync.Mutex
	conns  map[io.Closer]struct{}
	closed bool
	wg     sync.WaitGroup
}

func (sp *splicer) track(c io.Closer) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.closed {
		return false
	}
	if sp.conns == nil {
		sp.conns = make(map[io.Closer]struct{})
	}
	sp.conns[c] = struct{}{}
	return true
}

func (sp *splicer) untrack(c io.Closer) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	delete(sp.conns, c)
}

func (sp *splicer) closeAll() {
	sp.mu.Lock()
	sp.closed = true
	for c := range sp.conns {
		c.Close()
	}
	sp.mu.Unlock()
	sp.wg.Wait()
}

// upgrade answers 101 and splices the client's connection with remote
// until both directions end. remote is closed when it returns.
func (sp *splicer) upgrade(w http.ResponseWriter, remote net.Conn) {
	sp.wg.Add(1)
	defer sp.wg.Done()
	defer remote.Close()
	local, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeError(w, AsError(fmt.Errorf("upgrade: %w", err)))
		return
	}
	defer local.Close()
	if !sp.track(local) {
		return
	}
	defer sp.untrack(local)
	if !sp.track(remote) {
		return
	}
	defer sp.untrack(remote)
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + upgradeHeader + "\r\n\r\n")
	if err := rw.Flush(); err != nil {
		return
	}
	Splice(&bufferedConn{Conn: local, r: rw.Reader}, remote)
}

// Splice copies both ways between a and b until both directions end,
// half-closing the writer of each side when its reader hits EOF.
func Splice(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Go(func() { copyHalf(b, a) })
	copyHalf(a, b)
	wg.Wait()
}

type closeWriter interface{ CloseWrite() error }

func copyHalf(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if cw, ok := dst.(closeWriter); ok && err == nil {
		_ = cw.CloseWrite()
		return
	}
	dst.Close()
	src.Close()
}

// bufferedConn is a socket connection whose first bytes were already
// read into a buffer (by the HTTP server or the response reader): reads
// drain the buffer first.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// CloseWrite half-closes the socket connection.
func (c *bufferedConn) CloseWrite() error {
	if cw, ok := c.Conn.(closeWriter); ok {
		return cw.CloseWrite()
	}
	return errors.New("localapi: connection cannot half-close")
}
