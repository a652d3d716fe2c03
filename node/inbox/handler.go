package inbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/ports"
)

// idleConn refreshes a deadline before every Read and Write, so a transfer
// fails once no byte has moved for idle. Once done is closed it fails at
// once: the deadline is set before done is checked, and Close closes done
// before it sets its own deadline, so Close always wins.
type idleConn struct {
	c    *ports.Conn
	idle time.Duration
	done <-chan struct{} // nil: never
}

func (ic *idleConn) Read(p []byte) (int, error) {
	_ = ic.c.SetReadDeadline(time.Now().Add(ic.idle))
	select {
	case <-ic.done:
		return 0, errInboxClosed
	default:
	}
	return ic.c.Read(p)
}

func (ic *idleConn) Write(p []byte) (int, error) {
	_ = ic.c.SetWriteDeadline(time.Now().Add(ic.idle))
	select {
	case <-ic.done:
		return 0, errInboxClosed
	default:
	}
	return ic.c.Write(p)
}

func (in *Inbox) closing() bool {
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

var statusStats = [...]string{StatusStored: StatStored, StatusTooLarge: StatTooLarge, StatusMalformed: StatMalformed,
	StatusStorage: StatStorage, StatusFull: StatFull, StatusBusy: StatBusy}

// handle receives one message on c and answers it.
func (in *Inbox) handle(c *ports.Conn) {
	from := c.RemotePeer()
	ic := &idleConn{c: c, idle: in.cfg.IdleTimeout, done: in.done}
	msg, err := in.receive(bufio.NewReaderSize(ic, 64<<10), from)
	resp := Response{Status: StatusStored, ID: msg.ID}
	var fe *frameError
	switch {
	case err == nil:
		in.stat(StatStored)
	case errors.As(err, &fe):
		resp = Response{Status: fe.status, Reason: fe.msg}
		in.stat(statusStats[fe.status])
	case in.closing():
		in.stat(StatAborted)
		c.Reset()
		return
	case isTimeout(err):
		resp = Response{Status: StatusMalformed, Reason: fmt.Sprintf("no data for %s mid-message", in.cfg.IdleTimeout)}
		in.stat(StatTimeout)
	default: // the stream broke: nobody to answer
		in.stat(StatAborted)
		log.Debugf("inbox: transfer from %s aborted: %v", from, err)
		c.Reset()
		return
	}
	if err != nil {
		log.Debugf("inbox: refused a message from %s: %v", from, err)
	}
	// Close, not Reset, after the answer: a reset would discard it. If the
	// sender is still writing (an early refusal), it reads the answer and
	// stops.
	if _, werr := ic.Write(EncodeResponse(resp)); werr != nil {
		c.Reset()
	} else {
		c.Close()
	}
	if err == nil && in.cfg.OnMessage != nil {
		in.cfg.OnMessage(msg)
	}
}

// receive reads, validates and stores one message. Whatever it refuses or
// fails on leaves nothing stored.
func (in *Inbox) receive(r *bufio.Reader, from peer.ID) (Message, error) {
	lim := Limits{MaxMessage: in.cfg.MaxMessage, MaxFile: in.cfg.MaxFile}
	if in.cfg.FilesDir == "" {
		lim.MaxFile = min(lim.MaxFile, lim.MaxMessage)
	}
	h, err := DecodeHeader(r, lim)
	if err != nil {
		return Message{}, err
	}
	onDisk := h.Kind == KindFile && in.cfg.FilesDir != ""
	if err := in.reserve(h, onDisk); err != nil {
		return Message{}, err
	}
	stored := false
	defer func() {
		if !stored {
			in.mu.Lock()
			in.account(h.Kind, h.Size, onDisk, -1)
			in.mu.Unlock()
		}
	}()

	var body []byte
	var path string // the file on disk while it is ours to remove
	defer func() {
		if !stored && path != "" {
			if err := os.Remove(path); err != nil {
				log.Warnf("inbox: remove partial file: %v", err)
			}
		}
	}()
	if onDisk {
		path, err = in.receiveFile(r, h.Size)
	} else {
		body, err = receiveBody(r, h)
	}
	if err != nil {
		return Message{}, err
	}

	id, at := in.newID(in.cfg.Now())
	rec := record{ID: id, From: from.String(), Kind: h.Kind, Name: h.Name, Size: h.Size, ReceivedAt: at}
	if a, err := addressing.FromPeerID(from); err == nil {
		rec.FromAddr = a.String()
	}
	if onDisk {
		rec.File = id + "-" + h.Name
		final := filepath.Join(in.cfg.FilesDir, rec.File)
		if err := os.Rename(path, final); err != nil {
			return Message{}, in.storageError(fmt.Errorf("rename received file: %w", err))
		}
		path = final
		if err := syncDir(in.cfg.FilesDir); err != nil {
			return Message{}, in.storageError(fmt.Errorf("sync files folder: %w", err))
		}
	}
	if err := in.put(rec, body); err != nil {
		return Message{}, in.storageError(err)
	}
	stored = true
	msg := in.message(rec)
	msg.Body = body
	return msg, nil
}

// storageError logs the local detail and tells the sender only that
// storing failed: paths and disk states are not the peer's business.
func (in *Inbox) storageError(err error) error {
	log.Errorf("inbox: store message: %v", err)
	return refuse(StatusStorage, "the receiver could not store the message")
}

// reserve counts the message against the quotas before its body is read.
func (in *Inbox) reserve(h Header, onDisk bool) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case in.count >= in.cfg.MaxMessages:
		return refuse(StatusFull, "inbox full: message count limit reached")
	case h.Kind == KindFile && in.fileBytes+h.Size > in.cfg.MaxFilesBytes:
		return refuse(StatusFull, "inbox full: no room for %d more bytes of files", h.Size)
	case !onDisk && in.inlineBytes+h.Size > in.cfg.MaxInlineBytes:
		return refuse(StatusFull, "inbox full: no room for %d more bytes of messages", h.Size)
	}
	in.account(h.Kind, h.Size, onDisk, +1)
	return nil
}

// receiveBody reads a body kept in memory, exactly h.Size bytes then the
// end of the stream, and validates text and JSON.
func receiveBody(r *bufio.Reader, h Header) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(h.Size, 64<<10))) // grows with what arrives, not with what is declared
	n, err := buf.ReadFrom(io.LimitReader(r, h.Size))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n < h.Size {
		return nil, refuse(StatusMalformed, "body shorter than declared: %d of %d bytes", n, h.Size)
	}
	if err := expectEnd(r); err != nil {
		return nil, err
	}
	body := buf.Bytes()
	switch {
	case h.Kind == KindText && !utf8.Valid(body):
		return nil, refuse(StatusMalformed, "text is not valid UTF-8")
	case h.Kind == KindJSON && !json.Valid(body):
		return nil, refuse(StatusMalformed, "json body is not valid JSON")
	}
	return body, nil
}

// receiveFile writes exactly size bytes to a temporary file in FilesDir,
// checks the end of the stream and fsyncs it. It returns the temporary
// file's path; on error nothing is left behind.
func (in *Inbox) receiveFile(r *bufio.Reader, size int64) (path string, err error) {
	f, err := os.CreateTemp(in.cfg.FilesDir, tmpPrefix+"*.part")
	if err != nil {
		return "", in.storageError(fmt.Errorf("create temporary file: %w", err))
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	buf := make([]byte, 64<<10)
	var n int64
	for n < size {
		k, rerr := r.Read(buf[:min(int64(len(buf)), size-n)])
		if k > 0 {
			if _, werr := f.Write(buf[:k]); werr != nil {
				return "", in.storageError(fmt.Errorf("write received file: %w", werr))
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("read file body: %w", rerr)
		}
	}
	if n < size {
		return "", refuse(StatusMalformed, "body shorter than declared: %d of %d bytes", n, size)
	}
	if err := expectEnd(r); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", in.storageError(fmt.Errorf("sync received file: %w", err))
	}
	if err := f.Close(); err != nil {
		return "", in.storageError(fmt.Errorf("close received file: %w", err))
	}
	return f.Name(), nil
}

// expectEnd checks that the sender half-closed right after the payload.
func expectEnd(r *bufio.Reader) error {
	_, err := r.ReadByte()
	switch {
	case err == nil:
		return refuse(StatusMalformed, "data after the declared payload")
	case errors.Is(err, io.EOF):
		return nil
	}
	return fmt.Errorf("wait for the end of the stream: %w", err)
}
