package tunnel

import (
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// bufSize is the copy buffer of each direction of each connection.
const bufSize = 32 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, bufSize)
	return &b
}}

// halfCloser is a connection that can end its write side and keep reading:
// *net.TCPConn, *ports.Conn, *tls.Conn.
type halfCloser interface{ CloseWrite() error }

// resetter is a connection that can abort both directions at once, such
// as a *ports.Conn (a libp2p stream).
type resetter interface{ Reset() error }

// splice copies pilot→local and local→pilot concurrently until both
// directions are done. When one direction reaches EOF it half-closes the
// write side of its destination, so the far end reads EOF while the other
// direction keeps flowing (an HTTP client that sends its request and then
// shuts down writing still gets the whole response). The first error in
// either direction aborts both connections, so neither end hangs. in counts
// bytes read from the Pilot side, out bytes written to it. splice closes
// both connections before it returns, and returns the first error.
func splice(pilot, local net.Conn, in, out *atomic.Uint64) error {
	var (
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() {
			firstErr = err
			abort(pilot)
			abort(local)
		})
	}
	wg.Go(func() {
		if err := pipe(local, pilot, in); err != nil {
			fail(fmt.Errorf("pilot to local: %w", err))
		}
	})
	if err := pipe(pilot, local, out); err != nil {
		fail(fmt.Errorf("local to pilot: %w", err))
	}
	wg.Wait()
	_ = pilot.Close()
	_ = local.Close()
	return firstErr
}

// pipe copies src to dst through a pooled buffer, counting what dst
// accepted, then ends dst's write side. A dst that cannot half-close is
// closed outright: its peer still sees EOF, but the other direction ends
// too.
func pipe(dst, src net.Conn, n *atomic.Uint64) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	// The wrappers hide ReadFrom/WriteTo so that io.CopyBuffer uses the
	// pooled buffer (net.TCPConn's WriteTo would allocate its own) and so
	// that every chunk is counted as it goes, for live statistics.
	if _, err := io.CopyBuffer(countWriter{dst, n}, readerOnly{src}, *bp); err != nil {
		return err
	}
	if hc, ok := dst.(halfCloser); ok {
		if err := hc.CloseWrite(); err != nil {
			return fmt.Errorf("half-close: %w", err)
		}
		return nil
	}
	return dst.Close()
}

// abort ends a connection at once in both directions: a stream is reset, a
// TCP connection is closed with an RST (linger 0) rather than a FIN, so the
// far end sees an error, not a clean end of data.
func abort(c net.Conn) {
	switch x := c.(type) {
	case resetter:
		_ = x.Reset()
	case *net.TCPConn:
		_ = x.SetLinger(0)
	}
	_ = c.Close()
}

type readerOnly struct{ r io.Reader }

func (r readerOnly) Read(p []byte) (int, error) { return r.r.Read(p) }

type countWriter struct {
	w io.Writer
	n *atomic.Uint64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(uint64(n))
	return n, err
}
