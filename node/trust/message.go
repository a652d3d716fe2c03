package trust

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	pb "github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Wire format, version 1. A frame travels as a 2-byte big-endian length
// followed by that many bytes of body (1..MaxFrameSize):
//
//	version   1 byte   = 1
//	kind      1 byte   1 request, 2 approve, 3 reject, 4 revoke
//	from      1 byte length (1..64) + binary peer ID
//	to        1 byte length (1..64) + binary peer ID
//	issued    8 bytes  unix milliseconds, big-endian, > 0
//	seq       8 bytes  sender's sequence number, big-endian, > 0
//	message   2 bytes length (0..1024) + UTF-8 text (requests only)
//	signature 1 byte length (1..255) + signature
//
// The signature is made with from's Ed25519 key over signingDomain followed
// by every body byte before the signature length. Every field has exactly
// one encoding and no trailing bytes are allowed, so decoding and re-encoding
// a valid frame gives the same bytes.

const (
	frameVersion  = 1
	signingDomain = "pilot-trust-v1\x00"
	// MaxFrameSize bounds a frame body in bytes.
	MaxFrameSize = 4096
	maxPeerIDLen = 64
)

// Kind is a frame kind.
type Kind uint8

// Frame kinds.
const (
	KindRequest Kind = 1
	KindApprove Kind = 2
	KindReject  Kind = 3
	KindRevoke  Kind = 4
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindApprove:
		return "approve"
	case KindReject:
		return "reject"
	case KindRevoke:
		return "revoke"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func parseKind(s string) (Kind, bool) {
	for k := KindRequest; k <= KindRevoke; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

// Decoding errors. errVersion is distinct so a future version can be told
// apart from garbage; everything else structural is errMalformed.
var (
	errMalformed    = errors.New("malformed frame")
	errVersion      = errors.New("unsupported frame version")
	errTooLarge     = errors.New("frame too large")
	errBadKey       = errors.New("sender key is not an inline Ed25519 key")
	errBadSignature = errors.New("bad signature")
)

// frame is one decoded trust message.
type frame struct {
	Kind     Kind
	From, To peer.ID
	IssuedAt int64 // unix ms
	Seq      uint64
	Message  string
	Sig      []byte
	signed   []byte // the body bytes the signature covers (without the domain)
}

// checkMessage validates a justification: at most MaxMessageLen bytes of
// valid UTF-8 without control characters other than newline and tab (it is
// shown to an operator, possibly on a terminal).
func checkMessage(s string) error {
	if len(s) > MaxMessageLen {
		return ErrMessageTooLong
	}
	if !utf8.ValidString(s) {
		return ErrInvalidMessage
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return ErrInvalidMessage
		}
	}
	return nil
}

// marshalUnsigned encodes every field before the signature.
func (f *frame) marshalUnsigned() ([]byte, error) {
	from, to := []byte(f.From), []byte(f.To)
	switch {
	case f.Kind < KindRequest || f.Kind > KindRevoke:
		return nil, fmt.Errorf("trust: encode: %w: kind %d", errMalformed, f.Kind)
	case len(from) == 0 || len(from) > maxPeerIDLen || len(to) == 0 || len(to) > maxPeerIDLen:
		return nil, fmt.Errorf("trust: encode: %w: peer ID length", errMalformed)
	case f.IssuedAt <= 0 || f.Seq == 0:
		return nil, fmt.Errorf("trust: encode: %w: issued-at and seq must be positive", errMalformed)
	case f.Kind != KindRequest && f.Message != "":
		return nil, fmt.Errorf("trust: encode: %w: message on a %s", errMalformed, f.Kind)
	}
	if err := checkMessage(f.Message); err != nil {
		return nil, fmt.Errorf("trust: encode: %w", err)
	}
	b := make([]byte, 0, 2+2+len(from)+len(to)+16+2+len(f.Message)+1+64)
	b = append(b, frameVersion, byte(f.Kind))
	b = append(b, byte(len(from)))
	b = append(b, from...)
	b = append(b, byte(len(to)))
	b = append(b, to...)
	b = binary.BigEndian.AppendUint64(b, uint64(f.IssuedAt))
	b = binary.BigEndian.AppendUint64(b, f.Seq)
	b = binary.BigEndian.AppendUint16(b, uint16(len(f.Message)))
	b = append(b, f.Message...)
	return b, nil
}

// sign fills f.Sig and returns the encoded body.
func (f *frame) sign(key crypto.PrivKey) ([]byte, error) {
	unsigned, err := f.marshalUnsigned()
	if err != nil {
		return nil, err
	}
	sig, err := key.Sign(signingPayload(unsigned))
	if err != nil {
		return nil, fmt.Errorf("trust: sign: %w", err)
	}
	if len(sig) == 0 || len(sig) > 255 {
		return nil, fmt.Errorf("trust: sign: signature of %d bytes", len(sig))
	}
	f.Sig, f.signed = sig, unsigned
	body := append(unsigned, byte(len(sig)))
	return append(body, sig...), nil
}

func signingPayload(unsigned []byte) []byte {
	p := make([]byte, 0, len(signingDomain)+len(unsigned))
	return append(append(p, signingDomain...), unsigned...)
}

// decodeFrame parses a frame body. It checks structure only; verify checks
// the signature.
func decodeFrame(b []byte) (*frame, error) {
	if len(b) > MaxFrameSize {
		return nil, errTooLarge
	}
	d := decoder{b: b}
	if v := d.byte(); d.err == nil && v != frameVersion {
		return nil, errVersion
	}
	f := &frame{Kind: Kind(d.byte())}
	from, to := d.peerID(), d.peerID()
	issued, seq := d.uint64(), d.uint64()
	msg := d.bytes(int(d.uint16()))
	signedLen := d.off
	sig := d.bytes(int(d.byte()))
	switch {
	case d.err != nil:
		return nil, d.err
	case d.off != len(b):
		return nil, fmt.Errorf("%w: %d trailing bytes", errMalformed, len(b)-d.off)
	case f.Kind < KindRequest || f.Kind > KindRevoke:
		return nil, fmt.Errorf("%w: unknown kind %d", errMalformed, f.Kind)
	case issued == 0 || issued > 1<<62 || seq == 0:
		return nil, fmt.Errorf("%w: issued-at or seq out of range", errMalformed)
	case len(msg) > MaxMessageLen:
		return nil, fmt.Errorf("%w: message of %d bytes", errMalformed, len(msg))
	case len(msg) > 0 && f.Kind != KindRequest:
		return nil, fmt.Errorf("%w: message on a %s", errMalformed, f.Kind)
	case len(sig) == 0:
		return nil, fmt.Errorf("%w: empty signature", errMalformed)
	}
	if err := checkMessage(string(msg)); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	f.From, f.To = from, to
	f.IssuedAt, f.Seq = int64(issued), seq
	f.Message = string(msg)
	f.Sig = append([]byte(nil), sig...)
	f.signed = append([]byte(nil), b[:signedLen]...)
	return f, nil
}

// verify checks that f is signed by the inline Ed25519 key of f.From.
func (f *frame) verify() error {
	pub, err := f.From.ExtractPublicKey()
	if err != nil || pub == nil || pub.Type() != pb.KeyType_Ed25519 {
		return errBadKey
	}
	ok, err := pub.Verify(signingPayload(f.signed), f.Sig)
	if err != nil || !ok {
		return errBadSignature
	}
	return nil
}

// decoder reads big-endian fields, remembering the first error.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.err = fmt.Errorf("%w: truncated", errMalformed)
		return nil
	}
	v := d.b[d.off : d.off+n]
	d.off += n
	return v
}

func (d *decoder) byte() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uint16() uint16 {
	if v := d.bytes(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if v := d.bytes(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) peerID() peer.ID {
	n := int(d.byte())
	if d.err == nil && (n == 0 || n > maxPeerIDLen) {
		d.err = fmt.Errorf("%w: peer ID of %d bytes", errMalformed, n)
	}
	raw := d.bytes(n)
	if d.err != nil {
		return ""
	}
	id, err := peer.IDFromBytes(raw)
	if err != nil {
		d.err = fmt.Errorf("%w: peer ID: %w", errMalformed, err)
		return ""
	}
	return id
}

// writeFrame writes body with its 2-byte length prefix.
func writeFrame(w io.Writer, body []byte) error {
	if len(body) == 0 || len(body) > MaxFrameSize {
		return fmt.Errorf("trust: write frame: %w (%d bytes)", errTooLarge, len(body))
	}
	buf := make([]byte, 2, 2+len(body))
	binary.BigEndian.PutUint16(buf, uint16(len(body)))
	_, err := w.Write(append(buf, body...))
	return err
}

// readFrame reads one length-prefixed frame body of at most MaxFrameSize
// bytes. An oversized or empty length is refused before reading the body.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: length: %w", errMalformed, err)
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n > MaxFrameSize {
		return nil, errTooLarge
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: empty frame", errMalformed)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("%w: body: %w", errMalformed, err)
	}
	return body, nil
}

// Ack codes: the one byte a receiver answers each frame with.
const (
	ackOK          byte = 0 // validated and processed (stored or deliberately ignored)
	ackMalformed   byte = 1
	ackVersion     byte = 2
	ackBadSig      byte = 3 // bad signature or sender key
	ackWrongPeer   byte = 4 // from is not the stream peer, or to is not the receiver
	ackStale       byte = 5 // outside the time window
	ackReplay      byte = 6
	ackRateLimited byte = 7
	ackBusy        byte = 8 // pending table full, too many streams, internal error
)

// ackRetryable reports whether a sender should retry after code: the
// permanent refusals (malformed, version, signature, wrong peer) are not.
func ackRetryable(code byte) bool {
	switch code {
	case ackMalformed, ackVersion, ackBadSig, ackWrongPeer:
		return false
	}
	return true
}

func ackName(code byte) string {
	switch code {
	case ackOK:
		return "ok"
	case ackMalformed:
		return "malformed"
	case ackVersion:
		return "version"
	case ackBadSig:
		return "bad_signature"
	case ackWrongPeer:
		return "wrong_peer"
	case ackStale:
		return "stale"
	case ackReplay:
		return "replay"
	case ackRateLimited:
		return "rate_limited"
	case ackBusy:
		return "busy"
	}
	return "unknown"
}
