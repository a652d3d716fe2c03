package swarmkey

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// The lines of a key file (go-libp2p pnet's "V1 PSK" format).
const (
	header    = "/key/swarm/psk/1.0.0/"
	encBase16 = "/base16/"
	encBase64 = "/base64/"
	encBin    = "/bin/"
)

// maxFileSize caps a key file; a base16 file is 96 bytes.
const maxFileSize = 1024

// ErrInvalid is wrapped by every error about a malformed key or key file.
var ErrInvalid = errors.New("swarmkey: invalid swarm key")

// invalidError says what is wrong with a key file, never quoting key
// material. It prints as "swarmkey: [path: ]msg" and wraps ErrInvalid.
type invalidError struct {
	path string // "" when parsing bytes
	msg  string
}

func (e *invalidError) Error() string {
	if e.path == "" {
		return "swarmkey: " + e.msg
	}
	return "swarmkey: " + e.path + ": " + e.msg
}

func (e *invalidError) Unwrap() error { return ErrInvalid }

func invalid(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// Encode returns the key file in base16 form: the header line, "/base16/"
// and 64 lowercase hex digits, each line ending in "\n".
func (k Key) Encode() []byte {
	b := make([]byte, 0, len(header)+len(encBase16)+2*Size+3)
	b = append(b, header+"\n"+encBase16+"\n"...)
	b = hex.AppendEncode(b, k[:])
	return append(b, '\n')
}

// Parse decodes the contents of a key file: the exact header line, an
// encoding line ("/base16/", "/base64/" or "/bin/"), then exactly 32 key
// bytes in that encoding (hex in either case), then nothing but whitespace.
// Input over 1 KiB is refused. Every error wraps ErrInvalid and says what is
// wrong without quoting key material. Parse accepts the all-zero key; Load
// refuses it.
func Parse(b []byte) (Key, error) {
	if len(b) > maxFileSize {
		return Key{}, invalid("input is %d bytes, more than the %d a key file may have", len(b), maxFileSize)
	}
	if firstNonSpace(b, 0) == len(b) {
		return Key{}, invalid("input is empty, want a key file starting with %q", header)
	}
	line1, rest, ok := cutLine(b)
	if err := checkLine(1, line1, "the encoding goes on line 2, the key on line 3", header); err != nil {
		return Key{}, err
	}
	if !ok {
		return Key{}, invalid("input ends after line 1, want an encoding line %s", encodings)
	}
	line2, body, _ := cutLine(rest)
	if err := checkLine(2, line2, "the key goes on line 3", encBase16, encBase64, encBin); err != nil {
		return Key{}, err
	}
	switch string(line2) {
	case encBin:
		return parseBin(body)
	case encBase64:
		return parseText(body, decodeBase64)
	default:
		return parseText(body, decodeBase16)
	}
}

// encodings lists the accepted encoding lines, for messages.
const encodings = `"/base16/", "/base64/" or "/bin/"`

// cutLine splits b after its first "\n", dropping the line ending ("\n" or
// "\r\n"); ok is false if b has no "\n".
func cutLine(b []byte) (line, rest []byte, ok bool) {
	line, rest, ok = bytes.Cut(b, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), rest, ok
}

// checkLine checks that line n is one of want, saying what it is instead.
func checkLine(n int, line []byte, hint string, want ...string) error {
	for _, w := range want {
		if string(line) == w {
			return nil
		}
	}
	for _, w := range want {
		if bytes.HasPrefix(line, []byte(w)) {
			return invalid("line %d has unexpected text after %q (%s)", n, w, hint)
		}
	}
	wantText := encodings
	if n == 1 {
		wantText = fmt.Sprintf("%q", header)
	}
	if showable(line) {
		return invalid("line %d is %q, want %s", n, line, wantText)
	}
	return invalid("line %d is not %s (it is %d bytes, not shown as they may be key material)", n, wantText, len(line))
}

// showable reports whether an unexpected line may be quoted in an error:
// only if it is shaped like a multicodec path such as "/base32/" (at most
// 40 printable bytes, starting and ending with '/', segments of at most 12
// bytes), which no hex or base64 key is.
func showable(line []byte) bool {
	if len(line) == 0 {
		return true
	}
	if len(line) > 40 || line[0] != '/' || line[len(line)-1] != '/' {
		return false
	}
	seg := 0
	for _, c := range line {
		switch {
		case c == '/':
			seg = 0
		case c <= ' ' || c > '~':
			return false
		default:
			if seg++; seg > 12 {
				return false
			}
		}
	}
	return true
}

// parseBin reads the 32 raw key bytes that follow line 2.
func parseBin(body []byte) (Key, error) {
	var k Key
	switch {
	case len(body) == 0:
		return Key{}, invalid("the key is missing: want %d raw bytes after line 2", Size)
	case len(body) < Size:
		return Key{}, invalid("key is %d bytes, want %d (truncated?)", len(body), Size)
	}
	if err := checkTail(body, Size); err != nil {
		return Key{}, err
	}
	copy(k[:], body)
	return k, nil
}

// parseText reads a base16 or base64 key on line 3: the text up to the
// first whitespace, decoded by decode.
func parseText(body []byte, decode func(k *Key, text []byte) error) (Key, error) {
	end := 0
	for end < len(body) && !isSpace(body[end]) {
		end++
	}
	if end == 0 {
		if firstNonSpace(body, 0) == len(body) {
			return Key{}, invalid("the key is missing: line 3 should hold it")
		}
		return Key{}, invalid("line 3 must start with the key, not with whitespace or a blank line")
	}
	var k Key
	if err := decode(&k, body[:end]); err != nil {
		return Key{}, err
	}
	if err := checkTail(body, end); err != nil {
		return Key{}, err
	}
	return k, nil
}

func decodeBase16(k *Key, text []byte) error {
	for i, c := range text {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return invalid("line 3: character %d of the key is not a hex digit", i+1)
		}
	}
	if len(text) != 2*Size {
		return invalid("key is %d hex digits, want %d%s", len(text), 2*Size, lengthHint(len(text) < 2*Size))
	}
	_, err := hex.Decode(k[:], text)
	return err // nil: text is 64 hex digits
}

func decodeBase64(k *Key, text []byte) error {
	enc := base64.StdEncoding.Strict()
	buf := make([]byte, enc.DecodedLen(len(text)))
	defer clear(buf)
	n, err := enc.Decode(buf, text)
	var bad base64.CorruptInputError
	if errors.As(err, &bad) {
		return invalid("line 3: the key is not valid padded base64 (error at character %d)", int64(bad)+1)
	}
	if n != Size {
		return invalid("key is %d bytes, want %d%s", n, Size, lengthHint(n < Size))
	}
	copy(k[:], buf)
	return nil
}

func lengthHint(short bool) string {
	if short {
		return " (truncated?)"
	}
	return " (too long)"
}

// checkTail checks that only whitespace follows the key, which ends at
// body[end]; body starts on line 3.
func checkTail(body []byte, end int) error {
	i := firstNonSpace(body, end)
	if i == len(body) {
		return nil
	}
	line := 3 + bytes.Count(body[:i], []byte("\n"))
	return invalid("unexpected text after the key, on line %d (only whitespace may follow the key)", line)
}

// isSpace reports whether c is ASCII whitespace.
func isSpace(c byte) bool {
	return strings.IndexByte(" \t\r\n\v\f", c) >= 0
}

// firstNonSpace returns the index of the first non-whitespace byte of b at
// or after from, or len(b).
func firstNonSpace(b []byte, from int) int {
	for from < len(b) && isSpace(b[from]) {
		from++
	}
	return from
}
