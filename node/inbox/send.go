package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/node/ports"
)

const (
	// sendIdle aborts a send when the receiver takes no byte for that long.
	sendIdle = 30 * time.Second
	// answerWait bounds the wait for the answer once the payload is sent
	// (the receiver fsyncs before answering).
	answerWait = 2 * time.Minute
)

// RemoteError is a refusal by the receiver. It matches ErrRejected, and
// ErrTooLarge, ErrInboxFull or ErrBusy by status.
type RemoteError struct {
	Status Status
	Reason string // the receiver's words, printable, at most MaxReasonLen bytes
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("rejected by the receiver (%s): %s", e.Status, e.Reason)
}

// Is makes errors.Is work with the sentinel errors.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrRejected:
		return true
	case ErrTooLarge:
		return e.Status == StatusTooLarge
	case ErrInboxFull:
		return e.Status == StatusFull
	case ErrBusy:
		return e.Status == StatusBusy
	}
	return false
}

// Send sends one message of the given kind to port 1001 of peer to and
// returns the ID the receiver stored it under. body must hold at least size
// bytes; exactly size are sent. name is the file name for KindFile and
// must be empty otherwise.
//
// Errors: ErrInvalid (wrapped) for what the receiver would refuse anyway
// (bad kind or name, body shorter than size); a *RemoteError when the
// receiver refuses (errors.Is ErrRejected, ErrTooLarge, ErrInboxFull,
// ErrBusy); the ports errors (ports.ErrTrustRequired, ...) when the port
// cannot be opened; ctx's error when ctx ends first.
func Send(ctx context.Context, m *ports.Mux, to peer.ID, kind Kind, name string, body io.Reader, size int64) (string, error) {
	id, err := send(ctx, m, to, kind, name, body, size)
	if err != nil {
		return "", fmt.Errorf("inbox: send %s to %s: %w", kind, to, err)
	}
	return id, nil
}

// SendFile sends the file at path under its base name.
func SendFile(ctx context.Context, m *ports.Mux, to peer.ID, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("inbox: send file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("inbox: send file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("inbox: send file %s: not a regular file: %w", path, ErrInvalid)
	}
	return Send(ctx, m, to, KindFile, filepath.Base(path), f, st.Size())
}

func send(ctx context.Context, m *ports.Mux, to peer.ID, kind Kind, name string, body io.Reader, size int64) (string, error) {
	hdr, err := EncodeHeader(Header{Kind: kind, Name: name, Size: size})
	if err != nil {
		return "", err
	}
	if body == nil && size > 0 {
		return "", fmt.Errorf("nil body of %d bytes: %w", size, ErrInvalid)
	}
	c, err := m.Dial(ctx, to, ports.PortData)
	if err != nil {
		return "", err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Reset() })
	defer stop()

	wdone := make(chan error, 1)
	go func() { wdone <- writeRequest(c, hdr, body, size) }()
	resp, rerr := DecodeResponse(c)
	var werr error
	switch {
	case rerr != nil:
		werr = <-wdone
	case resp.Status == StatusStored:
		werr = <-wdone // it has sent everything: the receiver saw the end
	default: // an early refusal: stop writing
		select {
		case werr = <-wdone:
		default:
			c.Reset()
			<-wdone
		}
	}
	switch {
	case rerr == nil && resp.Status == StatusStored:
		return resp.ID, nil
	case rerr == nil:
		return "", &RemoteError{Status: resp.Status, Reason: resp.Reason}
	case ctx.Err() != nil:
		return "", ctx.Err()
	case werr != nil:
		return "", werr // the cause; the reader only saw its effect
	}
	return "", rerr
}

// writeRequest writes the header and size bytes of body, then half-closes.
// On failure it resets the stream, which also ends the wait for an answer.
func writeRequest(c *ports.Conn, hdr []byte, body io.Reader, size int64) (err error) {
	defer func() {
		if err != nil {
			c.Reset()
		}
	}()
	w := &idleConn{c: c, idle: sendIdle}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	src := &errReader{r: io.LimitReader(body, size)}
	n, err := io.CopyBuffer(w, src, make([]byte, 128<<10))
	switch {
	case src.err != nil:
		return fmt.Errorf("read body: %w", src.err)
	case err != nil:
		return fmt.Errorf("write body: %w", err)
	case n < size:
		return fmt.Errorf("body has %d bytes, %d declared: %w", n, size, ErrInvalid)
	}
	if err := c.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(answerWait))
	return nil
}

// errReader remembers the error of its reader, EOF aside, so a failed copy
// can tell a bad body from a broken stream.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}
