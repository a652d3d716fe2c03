package task

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Version is the frame version this package speaks.
const Version = 1

// FrameType is the kind of a frame.
type FrameType byte

// The frames of the task protocol.
const (
	FrameSubmit FrameType = 1 // requester → worker: a new task
	FrameUpdate FrameType = 2 // worker → requester: the task's new state
	FrameCancel FrameType = 3 // requester → worker: stop the task
)

// String is the frame's name on the wire, as in the docs (SUBMIT, ...).
func (t FrameType) String() string {
	switch t {
	case FrameSubmit:
		return "SUBMIT"
	case FrameUpdate:
		return "UPDATE"
	case FrameCancel:
		return "CANCEL"
	}
	return fmt.Sprintf("frame type %d", byte(t))
}

// headerLen is version, type and body length.
const headerLen = 1 + 1 + 4

// Bounds of the frame bodies, checked before a body is allocated.
const (
	idField       = 1 + IDLen
	maxSubmitBody = idField + 2*(1+MaxPeerIDLen) + 1 + MaxTypeLen + 8 + 8 + 4 + MaxInput
	maxUpdateBody = idField + 1 + 2 + MaxErrorLen + 4 + MaxResult + 4 + MaxReceipt
	maxCancelBody = idField
)

func maxBody(t FrameType) (int, bool) {
	switch t {
	case FrameSubmit:
		return maxSubmitBody, true
	case FrameUpdate:
		return maxUpdateBody, true
	case FrameCancel:
		return maxCancelBody, true
	}
	return 0, false
}

// Frame is one message of the task protocol. Task carries its fields:
//
//	SUBMIT: ID, Requester, Worker, Type, Input, SubmittedAt, Deadline
//	UPDATE: ID, State, Error (terminal states only), Result and Receipt
//	        (succeeded and failed only)
//	CANCEL: ID
type Frame struct {
	Type FrameType
	Task Task
}

// frameError is a frame that breaks the protocol; its text is the reason
// sent back to the peer.
type frameError struct{ msg string }

func (e *frameError) Error() string { return e.msg }

func badFrame(format string, a ...any) error {
	return &frameError{msg: fmt.Sprintf(format, a...)}
}

// EncodeFrame encodes f, refusing (with ErrInvalid) what a receiver would
// refuse. A frame is
//
//	version (1) | type (1) | body length (4) | body
//
// and the bodies are, with integers big endian and lenN a length of N
// bytes before the field:
//
//	SUBMIT: len1 id | len1 requester | len1 worker | len1 type |
//	        submitted_at ms (8) | deadline ms (8) | len4 input
//	UPDATE: len1 id | state (1) | len2 error | len4 result | len4 receipt
//	CANCEL: len1 id
//
// Peers are in their binary form; states are coded 1..8 in the order
// submitted, accepted, declined, executing, succeeded, failed, cancelled,
// expired. The sender then half-closes the stream.
func EncodeFrame(f Frame) ([]byte, error) {
	if err := checkFrame(f); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", f.Type, err, ErrInvalid)
	}
	t := f.Task
	b := make([]byte, headerLen, headerLen+64+len(t.Input)+len(t.Result)+len(t.Receipt)+len(t.Error))
	b[0], b[1] = Version, byte(f.Type)
	b = append(b, byte(len(t.ID)))
	b = append(b, t.ID...)
	switch f.Type {
	case FrameSubmit:
		b = append(b, byte(len(t.Requester)))
		b = append(b, t.Requester...)
		b = append(b, byte(len(t.Worker)))
		b = append(b, t.Worker...)
		b = append(b, byte(len(t.Type)))
		b = append(b, t.Type...)
		b = binary.BigEndian.AppendUint64(b, uint64(ms(t.SubmittedAt)))
		b = binary.BigEndian.AppendUint64(b, uint64(ms(t.Deadline)))
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.Input)))
		b = append(b, t.Input...)
	case FrameUpdate:
		c, _ := t.State.code() // checked
		b = append(b, c)
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.Error)))
		b = append(b, t.Error...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.Result)))
		b = append(b, t.Result...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(t.Receipt)))
		b = append(b, t.Receipt...)
	}
	binary.BigEndian.PutUint32(b[2:headerLen], uint32(len(b)-headerLen))
	return b, nil
}

// DecodeFrame reads one frame from r. It checks the version, the type and
// the body length against the type's bound before it allocates the body,
// then every field. A frame that breaks the protocol (truncated ones
// included) is a *frameError whose text is the reason for the peer; other
// read errors are returned wrapped.
func DecodeFrame(r io.Reader) (Frame, error) {
	var h [headerLen]byte
	if err := readFull(r, h[:], "frame header"); err != nil {
		return Frame{}, err
	}
	if h[0] != Version {
		return Frame{}, badFrame("unsupported frame version %d (want %d)", h[0], Version)
	}
	f := Frame{Type: FrameType(h[1])}
	max, ok := maxBody(f.Type)
	if !ok {
		return Frame{}, badFrame("unknown frame type %d", h[1])
	}
	n := binary.BigEndian.Uint32(h[2:])
	if uint64(n) > uint64(max) {
		return Frame{}, badFrame("%s body of %d bytes exceeds the limit of %d", f.Type, n, max)
	}
	body := make([]byte, n)
	if err := readFull(r, body, f.Type.String()+" body"); err != nil {
		return Frame{}, err
	}
	if err := parseBody(&f, body); err != nil {
		return Frame{}, err
	}
	return f, nil
}

func parseBody(f *Frame, body []byte) error {
	c := &cursor{b: body}
	t := &f.Task
	t.ID = string(c.bytes(int(c.u8())))
	switch f.Type {
	case FrameSubmit:
		req, wrk := c.bytes(int(c.u8())), c.bytes(int(c.u8()))
		t.Type = string(c.bytes(int(c.u8())))
		sub, dl := int64(c.u64()), int64(c.u64())
		t.Input = c.bytes(int(c.u32()))
		if c.short {
			return badFrame("truncated %s body", f.Type)
		}
		var err error
		if t.Requester, err = peer.IDFromBytes(req); err != nil {
			return badFrame("requester is not a peer ID: %v", err)
		}
		if t.Worker, err = peer.IDFromBytes(wrk); err != nil {
			return badFrame("worker is not a peer ID: %v", err)
		}
		if err := checkTimes(sub, dl); err != nil {
			return badFrame("%v", err)
		}
		t.SubmittedAt, t.Deadline = fromMs(sub), fromMs(dl)
	case FrameUpdate:
		code := c.u8()
		t.Error = string(c.bytes(int(c.u16())))
		t.Result = c.bytes(int(c.u32()))
		t.Receipt = c.bytes(int(c.u32()))
		if c.short {
			return badFrame("truncated %s body", f.Type)
		}
		if int(code) >= len(stateCodes) || stateCodes[code] == "" {
			return badFrame("unknown state code %d", code)
		}
		t.State = stateCodes[code]
		if len(t.Result) == 0 {
			t.Result = nil
		}
		if len(t.Receipt) == 0 {
			t.Receipt = nil
		}
	}
	switch {
	case c.short:
		return badFrame("truncated %s body", f.Type)
	case len(c.b) > 0:
		return badFrame("%d bytes after the %s body", len(c.b), f.Type)
	}
	if err := checkFrame(*f); err != nil {
		return badFrame("%v", err)
	}
	return nil
}

// checkFrame applies the rules of each frame type to its fields.
func checkFrame(f Frame) error {
	t := f.Task
	if !validID(t.ID) {
		return fmt.Errorf("bad task id %q", t.ID)
	}
	switch f.Type {
	case FrameSubmit:
		if err := checkPeers(t.Requester, t.Worker); err != nil {
			return err
		}
		if err := CheckType(t.Type); err != nil {
			return err
		}
		if err := checkTimes(ms(t.SubmittedAt), ms(t.Deadline)); err != nil {
			return err
		}
		return checkInput(t.Input)
	case FrameUpdate:
		return checkUpdate(t)
	case FrameCancel:
		return nil
	}
	return fmt.Errorf("unknown frame type %d", byte(f.Type))
}

// checkUpdate applies the rules of an UPDATE: a state other than
// submitted; an error only with a terminal state; a result and a receipt
// only when succeeded or failed.
func checkUpdate(t Task) error {
	finished := t.State == StateSucceeded || t.State == StateFailed
	switch {
	case !t.State.Valid() || t.State == StateSubmitted:
		return fmt.Errorf("no update to state %q", t.State)
	case t.Error != "" && !t.State.Terminal():
		return fmt.Errorf("an error text with state %s", t.State)
	case len(t.Result) > 0 && !finished:
		return fmt.Errorf("a result with state %s", t.State)
	case len(t.Receipt) > MaxReceipt:
		return fmt.Errorf("receipt of %d bytes (max %d)", len(t.Receipt), MaxReceipt)
	case len(t.Receipt) > 0 && !finished:
		return fmt.Errorf("a receipt with state %s", t.State)
	}
	if err := checkText("error text", t.Error, MaxErrorLen); err != nil {
		return err
	}
	return checkResult(t.Result)
}

// cursor reads a body; past its end it yields zeros and sets short.
type cursor struct {
	b     []byte
	short bool
}

func (c *cursor) bytes(n int) []byte {
	if n < 0 || n > len(c.b) {
		c.short, c.b = true, nil
		return nil
	}
	v := c.b[:n:n]
	c.b = c.b[n:]
	return v
}

func (c *cursor) u8() byte {
	if v := c.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (c *cursor) u16() uint16 {
	if v := c.bytes(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if v := c.bytes(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if v := c.bytes(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// readFull reads len(b) bytes; a stream that ends early is a bad frame.
func readFull(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return badFrame("stream ended inside the %s", what)
		}
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}
