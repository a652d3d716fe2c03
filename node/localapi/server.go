package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// maxRequestBody bounds what a client may send.
const maxRequestBody = 1 << 20

// Server serves a Backend on a Unix socket.
type Server struct {
	path    string
	h       *handler
	ln      net.Listener
	srv     *http.Server
	done    chan struct{}
	closeMu sync.Once
	err     error
}

// Listen creates the socket at path with mode 0600 and starts serving b in
// a goroutine. A stale socket left by a crashed daemon is replaced; a socket
// that still answers means another daemon runs on this home, and is an
// error.
func Listen(path string, b Backend) (*Server, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	old := syscallUmask(0o177)
	ln, err := net.Listen("unix", path)
	syscallUmask(old)
	if err != nil {
		return nil, fmt.Errorf("localapi: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("localapi: chmod %s: %w", path, err)
	}
	h := newHandler(b)
	s := &Server{
		path: path,
		h:    h,
		ln:   ln,
		srv: &http.Server{
			Handler:           h.mux,
			ReadHeaderTimeout: 5 * time.Second,
		},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Path returns the socket path.
func (s *Server) Path() string { return s.path }

// Close stops the server, waits for in-flight requests up to a short grace
// period, and removes the socket. It is idempotent.
func (s *Server) Close() error {
	s.closeMu.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		s.h.sp.closeAll() // hijacked streams are not the server's any more
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		<-s.done
		os.Remove(s.path)
	})
	return s.err
}

func removeStale(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("localapi: %s answers: another pilot daemon is running on this home", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("localapi: remove stale socket %s: %w", path, err)
	}
	return nil
}

// NewHandler returns the HTTP handler for b (exported for tests and for
// embedding the API in another server). Upgraded streams it starts end
// only when their peers close them.
func NewHandler(b Backend) http.Handler { return newHandler(b).mux }

type handler struct {
	b   Backend
	mux *http.ServeMux
	sp  splicer
}

func newHandler(b Backend) *handler {
	h := &handler{b: b, mux: http.NewServeMux()}
	mux := h.mux
	mux.HandleFunc("GET /v1/id", func(w http.ResponseWriter, r *http.Request) {
		writeOK(w, b.Identity())
	})
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		v, err := b.Status(r.Context())
		respond(w, v, err)
	})
	mux.HandleFunc("GET /v1/resolve/{addr}", func(w http.ResponseWriter, r *http.Request) {
		v, err := b.Resolve(r.Context(), r.PathValue("addr"))
		respond(w, v, err)
	})
	mux.HandleFunc("POST /v1/ping", func(w http.ResponseWriter, r *http.Request) {
		var req PingRequest
		if !decode(w, r, &req) {
			return
		}
		v, err := b.Ping(r.Context(), req)
		respond(w, v, err)
	})
	mux.HandleFunc("GET /v1/peers", func(w http.ResponseWriter, r *http.Request) {
		v, err := b.Peers(r.Context())
		respond(w, v, err)
	})
	mux.HandleFunc("DELETE /v1/pins/{addr}", func(w http.ResponseWriter, r *http.Request) {
		v, err := b.Unpin(r.Context(), r.PathValue("addr"))
		respond(w, v, err)
	})
	h.sessionRoutes()
	h.poloRoutes()
	h.doctorRoutes()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, Errorf(CodeNotFound, "the CLI and the daemon may be different versions", "no API endpoint %s %s", r.Method, r.URL.Path))
	})
	return h
}

func respond(w http.ResponseWriter, v any, err error) {
	if err != nil {
		writeError(w, AsError(err))
		return
	}
	writeOK(w, v)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxRequestBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, Errorf(CodeInvalidArgument, "", "bad request body: %v", err))
		return false
	}
	return true
}

func writeOK(w http.ResponseWriter, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeError(w, AsError(err))
		return
	}
	writeJSON(w, http.StatusOK, Envelope{Status: "ok", Data: data})
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, httpStatus(e.Code), Envelope{Status: "error", Code: e.Code, Message: e.Message, Hint: e.Hint})
}

func writeJSON(w http.ResponseWriter, status int, env Envelope) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(env)
}
