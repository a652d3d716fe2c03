package addressing

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads an address in text form. It accepts the canonical dotted form
// "3f2a.91c0.7d14", upper-case hex digits, and the 12 digits without dots
// ("3f2a91c07d14"). Anything else is an error wrapping ErrInvalid that says
// what is wrong.
func Parse(s string) (Addr, error) {
	var digits string
	switch {
	case len(s) == 2*Size:
		digits = s
	case len(s) == 2*Size+2 && s[4] == '.' && s[9] == '.':
		digits = s[0:4] + s[5:9] + s[10:14]
	case strings.Contains(s, "."):
		return Addr{}, fmt.Errorf("%w %q: want three groups of 4 hex digits like 3f2a.91c0.7d14", ErrInvalid, s)
	default:
		return Addr{}, fmt.Errorf("%w %q: want 12 hex digits, got %d characters", ErrInvalid, s, len(s))
	}
	var a Addr
	for i := range Size {
		hi, ok1 := unhex(digits[2*i])
		lo, ok2 := unhex(digits[2*i+1])
		if !ok1 || !ok2 {
			return Addr{}, fmt.Errorf("%w %q: only hex digits 0-9 and a-f are allowed", ErrInvalid, s)
		}
		a[i] = hi<<4 | lo
	}
	return a, nil
}

// MustParse is Parse for constants in tests and examples; it panics on error.
func MustParse(s string) Addr {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// SocketAddr is an address plus a 16-bit port, written "3f2a.91c0.7d14:1001".
type SocketAddr struct {
	Addr Addr
	Port uint16
}

// String returns the socket form "addr:port".
func (s SocketAddr) String() string {
	return s.Addr.String() + ":" + strconv.FormatUint(uint64(s.Port), 10)
}

// ParseSocket reads "addr:port"; the address part accepts what Parse accepts
// and the port is a decimal number from 0 to 65535.
func ParseSocket(s string) (SocketAddr, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return SocketAddr{}, fmt.Errorf("%w %q: want addr:port like 3f2a.91c0.7d14:1001", ErrInvalid, s)
	}
	a, err := Parse(host)
	if err != nil {
		return SocketAddr{}, err
	}
	if port == "" || len(port) > 5 || strings.TrimLeft(port, "0123456789") != "" {
		return SocketAddr{}, fmt.Errorf("%w %q: port must be a decimal number from 0 to 65535", ErrInvalid, s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return SocketAddr{}, fmt.Errorf("%w %q: port must be a decimal number from 0 to 65535", ErrInvalid, s)
	}
	return SocketAddr{Addr: a, Port: uint16(n)}, nil
}
