package reputation

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errShort is returned when the input ends before a field does.
var errShort = errors.New("unexpected end of input")

// encoder appends fixed-width big-endian fields to a buffer.
type encoder struct {
	buf []byte
}

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }
func (e *encoder) i64(v int64)  { e.u64(uint64(v)) }
func (e *encoder) raw(b []byte) { e.buf = append(e.buf, b...) }

// blob appends a uint16 length followed by b. The caller has checked that b
// fits the field's bound, which is far below 65535.
func (e *encoder) blob(b []byte) {
	e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(len(b)))
	e.buf = append(e.buf, b...)
}

// decoder reads fields from b, remembering the first error; every read after
// an error is a no-op returning zero values.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// take returns the next n bytes (aliasing the input) or nil after an error.
func (d *decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail(fmt.Errorf("%s: %w", what, errShort))
		return nil
	}
	out := d.b[d.off : d.off+n]
	d.off += n
	return out
}

func (d *decoder) u8(what string) uint8 {
	b := d.take(1, what)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u64(what string) uint64 {
	b := d.take(8, what)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) i64(what string) int64 { return int64(d.u64(what)) }

// fixed copies exactly len(dst) bytes into dst.
func (d *decoder) fixed(dst []byte, what string) {
	if b := d.take(len(dst), what); b != nil {
		copy(dst, b)
	}
}

// blob reads a uint16 length and that many bytes, checking the length
// against [minLen, maxLen] before anything is copied. The result is a copy.
func (d *decoder) blob(minLen, maxLen int, what string) []byte {
	lb := d.take(2, what+" length")
	if lb == nil {
		return nil
	}
	n := int(binary.BigEndian.Uint16(lb))
	if n < minLen || n > maxLen {
		d.fail(fmt.Errorf("%s: length %d outside [%d, %d]", what, n, minLen, maxLen))
		return nil
	}
	b := d.take(n, what)
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// done fails unless every byte was consumed.
func (d *decoder) done() error {
	if d.err == nil && d.off != len(d.b) {
		d.fail(fmt.Errorf("%d trailing bytes", len(d.b)-d.off))
	}
	return d.err
}
