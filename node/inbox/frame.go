package inbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Wire format of the data exchange service (docs/data-exchange.md).
//
// Request, sender → receiver, one per stream, then the sender half-closes:
//
//	'P' 'D' | version (1) | kind (1) | name length (1) | name | payload length (8, big endian) | payload
//
// Response, receiver → sender, then the receiver closes:
//
//	status (1) | length (2, big endian) | message ID (status 0) or reason (otherwise)
const (
	// Version is the request frame version this package speaks.
	Version = 1
	// MaxNameLen bounds a file name, in bytes.
	MaxNameLen = 255
	// MaxIDLen bounds a message ID in a response, in bytes.
	MaxIDLen = 64
	// MaxReasonLen bounds the reason text of a refusal, in bytes.
	MaxReasonLen = 256
	// MaxHeaderLen is the longest request header: magic, version, kind,
	// name length, name, payload length.
	MaxHeaderLen = 2 + 1 + 1 + 1 + MaxNameLen + 8

	magic0, magic1 = 'P', 'D'
)

// Kind is what a message carries.
type Kind string

// The kinds of the original Pilot's data exchange.
const (
	KindText   Kind = "text"   // UTF-8 text
	KindJSON   Kind = "json"   // one JSON value
	KindBinary Kind = "binary" // opaque bytes
	KindFile   Kind = "file"   // a named file
)

var kindCodes = [...]Kind{1: KindText, 2: KindJSON, 3: KindBinary, 4: KindFile}

func (k Kind) code() (byte, bool) {
	for c, kk := range kindCodes {
		if kk != "" && kk == k {
			return byte(c), true
		}
	}
	return 0, false
}

// ParseKind parses "text", "json", "binary" or "file".
func ParseKind(s string) (Kind, error) {
	if _, ok := Kind(s).code(); !ok {
		return "", fmt.Errorf("inbox: unknown kind %q (want text, json, binary or file): %w", s, ErrInvalid)
	}
	return Kind(s), nil
}

// Status is the receiver's verdict on a message.
type Status byte

// Response statuses.
const (
	StatusStored    Status = 0 // stored; the response carries the message ID
	StatusTooLarge  Status = 1 // declared length over the receiver's limit
	StatusMalformed Status = 2 // bad frame, bad name, invalid text/JSON, short body
	StatusStorage   Status = 3 // the receiver failed to store it
	StatusFull      Status = 4 // a quota of the inbox is reached
	StatusBusy      Status = 5 // too many concurrent transfers; retry later
	maxStatus              = StatusBusy
)

func (s Status) String() string {
	switch s {
	case StatusStored:
		return "stored"
	case StatusTooLarge:
		return "too large"
	case StatusMalformed:
		return "malformed"
	case StatusStorage:
		return "storage error"
	case StatusFull:
		return "inbox full"
	case StatusBusy:
		return "busy"
	}
	return fmt.Sprintf("status %d", byte(s))
}

// Header is a decoded request header.
type Header struct {
	Kind Kind
	Name string // file name, KindFile only
	Size int64  // payload length in bytes
}

// Limits bound the payload length per kind.
type Limits struct {
	MaxMessage int64 // text, json, binary
	MaxFile    int64 // file
}

// DefaultLimits are the receiver's defaults: 1 MiB messages, 64 MiB files.
var DefaultLimits = Limits{MaxMessage: 1 << 20, MaxFile: 64 << 20}

func (l Limits) of(k Kind) int64 {
	if k == KindFile {
		return l.MaxFile
	}
	return l.MaxMessage
}

// frameError is a refusal with the status it maps to.
type frameError struct {
	status Status
	msg    string
}

func (e *frameError) Error() string { return e.msg }

func refuse(s Status, format string, a ...any) error {
	return &frameError{status: s, msg: fmt.Sprintf(format, a...)}
}

// EncodeHeader encodes h; it refuses what a receiver would refuse as
// malformed (errors wrap ErrInvalid).
func EncodeHeader(h Header) ([]byte, error) {
	c, ok := h.Kind.code()
	if !ok {
		return nil, fmt.Errorf("unknown kind %q: %w", h.Kind, ErrInvalid)
	}
	if err := checkName(h.Kind, h.Name); err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	if h.Size < 0 {
		return nil, fmt.Errorf("negative size %d: %w", h.Size, ErrInvalid)
	}
	b := make([]byte, 0, MaxHeaderLen)
	b = append(b, magic0, magic1, Version, c, byte(len(h.Name)))
	b = append(b, h.Name...)
	return binary.BigEndian.AppendUint64(b, uint64(h.Size)), nil
}

// DecodeHeader reads a request header from r and validates it against lim
// before a byte of payload is read. A refusal is a *frameError carrying
// its status; a truncated header is malformed; other read errors are
// returned wrapped.
func DecodeHeader(r io.Reader, lim Limits) (Header, error) {
	var fixed [5]byte
	if err := readFull(r, fixed[:], "header"); err != nil {
		return Header{}, err
	}
	if fixed[0] != magic0 || fixed[1] != magic1 {
		return Header{}, refuse(StatusMalformed, "not a Pilot data frame (bad magic %#x%02x)", fixed[0], fixed[1])
	}
	if fixed[2] != Version {
		return Header{}, refuse(StatusMalformed, "unsupported frame version %d (want %d)", fixed[2], Version)
	}
	if int(fixed[3]) >= len(kindCodes) || kindCodes[fixed[3]] == "" {
		return Header{}, refuse(StatusMalformed, "unknown kind %d", fixed[3])
	}
	h := Header{Kind: kindCodes[fixed[3]]}
	name := make([]byte, fixed[4])
	if err := readFull(r, name, "file name"); err != nil {
		return Header{}, err
	}
	h.Name = string(name)
	if err := checkName(h.Kind, h.Name); err != nil {
		return Header{}, refuse(StatusMalformed, "%s", err)
	}
	var size [8]byte
	if err := readFull(r, size[:], "payload length"); err != nil {
		return Header{}, err
	}
	n := binary.BigEndian.Uint64(size[:])
	if max := lim.of(h.Kind); n > math.MaxInt64 || int64(n) > max {
		return Header{}, refuse(StatusTooLarge, "%s of %d bytes exceeds the limit of %d bytes", h.Kind, n, max)
	}
	h.Size = int64(n)
	return h, nil
}

// readFull reads len(b) bytes; running out of them is a malformed frame.
func readFull(r io.Reader, b []byte, what string) error {
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return refuse(StatusMalformed, "truncated frame: stream ended in the %s", what)
		}
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

// checkName enforces the name rules: files need a valid name, the other
// kinds none.
func checkName(k Kind, name string) error {
	if k != KindFile {
		if name != "" {
			return fmt.Errorf("a %s message carries no name (got %d bytes)", k, len(name))
		}
		return nil
	}
	return ValidName(name)
}

// ValidName reports why name is not acceptable as a received file name, or
// nil. A name is a bare base name: not empty, at most MaxNameLen bytes of
// UTF-8, no path separator, no "..", not ".", no control characters. Bad
// names are refused, never rewritten.
func ValidName(name string) error {
	switch {
	case name == "":
		return errors.New("empty file name")
	case len(name) > MaxNameLen:
		return fmt.Errorf("file name of %d bytes (max %d)", len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("file name is not valid UTF-8")
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("file name %q contains a path separator", name)
	case name == "." || strings.Contains(name, ".."):
		return fmt.Errorf("file name %q contains \"..\" or is \".\"", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("file name %q contains a control character", name)
	}
	return nil
}

// Response is the receiver's answer.
type Response struct {
	Status Status
	ID     string // StatusStored
	Reason string // any other status
}

// EncodeResponse encodes r. A reason is made safe to show: invalid UTF-8
// and control characters become '?', and it is cut to MaxReasonLen bytes.
func EncodeResponse(r Response) []byte {
	text := r.ID
	if r.Status != StatusStored {
		text = sanitizeReason(r.Reason)
	}
	b := make([]byte, 0, 3+len(text))
	b = append(b, byte(r.Status))
	b = binary.BigEndian.AppendUint16(b, uint16(len(text)))
	return append(b, text...)
}

// DecodeResponse reads one response and refuses anything out of bounds:
// an unknown status, an ID that is empty, longer than MaxIDLen or not
// printable ASCII, a reason longer than MaxReasonLen, not UTF-8 or with
// control characters.
func DecodeResponse(r io.Reader) (Response, error) {
	var fixed [3]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return Response{}, fmt.Errorf("read response: %w", err)
	}
	resp := Response{Status: Status(fixed[0])}
	if resp.Status > maxStatus {
		return Response{}, fmt.Errorf("response: unknown status %d", fixed[0])
	}
	n := int(binary.BigEndian.Uint16(fixed[1:]))
	max := MaxReasonLen
	if resp.Status == StatusStored {
		max = MaxIDLen
	}
	if n > max {
		return Response{}, fmt.Errorf("response: %d bytes of text for %s (max %d)", n, resp.Status, max)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(r, text); err != nil {
		return Response{}, fmt.Errorf("read response text: %w", err)
	}
	if resp.Status == StatusStored {
		if n == 0 {
			return Response{}, errors.New("response: stored without a message ID")
		}
		for _, c := range text {
			if c <= ' ' || c >= 0x7f {
				return Response{}, fmt.Errorf("response: message ID with byte %#x", c)
			}
		}
		resp.ID = string(text)
		return resp, nil
	}
	if !utf8.Valid(text) || strings.IndexFunc(string(text), unicode.IsControl) >= 0 {
		return Response{}, errors.New("response: reason is not printable UTF-8")
	}
	resp.Reason = string(text)
	return resp, nil
}

func sanitizeReason(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if (r == utf8.RuneError && n == 1) || unicode.IsControl(r) {
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > MaxReasonLen {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
