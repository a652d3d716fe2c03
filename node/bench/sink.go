package bench

import (
	"fmt"
	"io"
	"net"
	"time"
)

// stream is one direction of a measured path: it can signal the end of
// its data and still read the receiver's acknowledgement.
type stream interface {
	io.ReadWriteCloser
	CloseWrite() error
}

// readBuf is the size of every sink's reads: the same for all paths, so
// that no path gains from a larger read (io.Copy would use a path's own
// WriterTo where it has one, and 32 KiB reads where not).
const readBuf = 256 << 10

// drainAndAck reads c to EOF, then acknowledges with one byte, so that the
// sender's clock covers delivery, not just buffering.
func drainAndAck(c io.ReadWriteCloser) {
	defer c.Close()
	buf := make([]byte, readBuf)
	for {
		_, err := c.Read(buf)
		if err == io.EOF {
			_, _ = c.Write([]byte{1})
			return
		}
		if err != nil {
			return
		}
	}
}

// serve runs drainAndAck on every connection l accepts, until l closes.
func serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go drainAndAck(c)
	}
}

// send opens a stream, writes n bytes from buf, half-closes it and waits
// for the acknowledgement. It returns the time from open to acknowledgement.
func send(open func() (stream, error), buf []byte, n int64) (time.Duration, error) {
	start := time.Now()
	s, err := open()
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	defer s.Close()
	for sent := int64(0); sent < n; {
		chunk := buf[:min(int64(len(buf)), n-sent)]
		if _, err := s.Write(chunk); err != nil {
			return 0, fmt.Errorf("write after %d bytes: %w", sent, err)
		}
		sent += int64(len(chunk))
	}
	if err := s.CloseWrite(); err != nil {
		return 0, fmt.Errorf("close write: %w", err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(s, ack[:]); err != nil {
		return 0, fmt.Errorf("acknowledgement: %w", err)
	}
	return time.Since(start), nil
}
