package reputation

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Bounds of the encoding. Every length is checked against them before
// anything is allocated.
const (
	// CodecVersion is the first byte of every encoding this package writes
	// and the only one it reads.
	CodecVersion = 1
	// MaxEncodedSize bounds the encoding of a receipt or an attestation
	// (the attestation's includes its receipt's).
	MaxEncodedSize = 1024
	// MaxPeerIDLen bounds an encoded peer ID.
	MaxPeerIDLen = 64
	// MaxSigLen bounds an encoded signature.
	MaxSigLen = 128
)

// ErrDecode is wrapped by every error of UnmarshalReceipt and
// UnmarshalAttestation.
var ErrDecode = errors.New("malformed encoding")

// Marshal returns the canonical encoding of r:
//
//	version    uint8 (1)
//	worker     uint16 length (1..64) + peer ID bytes
//	requester  uint16 length (1..64) + peer ID bytes
//	taskHash   [32]byte
//	resultHash [32]byte
//	outcome    uint8 (1 success, 2 failure)
//	cost       uint64
//	endedAt    int64 unix milliseconds
//	sig        uint16 length (0..128) + signature bytes
//
// Integers are big-endian. Times lose anything below a millisecond. The
// signature covers the domain prefix "pilot/polo/receipt/v1\x00" followed by
// every byte before the sig field.
func (r Receipt) Marshal() ([]byte, error) {
	body, err := r.body()
	if err != nil {
		return nil, fmt.Errorf("reputation: marshal receipt: %w", err)
	}
	return appendSig(body, r.Sig, "receipt")
}

// body encodes every field of r but the signature.
func (r Receipt) body() ([]byte, error) {
	if err := checkPeerID(r.Worker, "worker"); err != nil {
		return nil, err
	}
	if err := checkPeerID(r.Requester, "requester"); err != nil {
		return nil, err
	}
	if !r.Outcome.Valid() {
		return nil, fmt.Errorf("outcome %s", r.Outcome)
	}
	e := encoder{buf: make([]byte, 0, 256)}
	e.u8(CodecVersion)
	e.blob([]byte(r.Worker))
	e.blob([]byte(r.Requester))
	e.raw(r.TaskHash[:])
	e.raw(r.ResultHash[:])
	e.u8(uint8(r.Outcome))
	e.u64(r.Cost)
	e.i64(r.EndedAt.UnixMilli())
	return e.buf, nil
}

// UnmarshalReceipt decodes a canonical receipt encoding (see
// Receipt.Marshal). It rejects unknown versions, out-of-bound lengths,
// invalid outcomes and trailing bytes; it does not verify the signature.
func UnmarshalReceipt(b []byte) (Receipt, error) {
	r, err := decodeReceipt(b)
	if err != nil {
		return Receipt{}, fmt.Errorf("reputation: unmarshal receipt: %w: %w", ErrDecode, err)
	}
	return r, nil
}

func decodeReceipt(b []byte) (Receipt, error) {
	if len(b) > MaxEncodedSize {
		return Receipt{}, fmt.Errorf("%d bytes exceed %d", len(b), MaxEncodedSize)
	}
	d := decoder{b: b}
	var r Receipt
	if v := d.u8("version"); d.err == nil && v != CodecVersion {
		return Receipt{}, fmt.Errorf("version %d", v)
	}
	r.Worker = peer.ID(d.blob(1, MaxPeerIDLen, "worker"))
	r.Requester = peer.ID(d.blob(1, MaxPeerIDLen, "requester"))
	d.fixed(r.TaskHash[:], "task hash")
	d.fixed(r.ResultHash[:], "result hash")
	r.Outcome = Outcome(d.u8("outcome"))
	r.Cost = d.u64("cost")
	r.EndedAt = fromMillis(d.i64("ended at"))
	r.Sig = d.blob(0, MaxSigLen, "signature")
	if err := d.done(); err != nil {
		return Receipt{}, err
	}
	if !r.Outcome.Valid() {
		return Receipt{}, fmt.Errorf("outcome %s", r.Outcome)
	}
	return r, nil
}

// Marshal returns the canonical encoding of a:
//
//	version   uint8 (1)
//	issuer    uint16 length (1..64) + peer ID bytes
//	subject   uint16 length (1..64) + peer ID bytes
//	taskHash  [32]byte
//	outcome   uint8 (1 success, 2 failure)
//	cost      uint64
//	issuedAt  int64 unix milliseconds
//	expiry    int64 unix milliseconds
//	seq       uint64
//	receipt   uint16 length + the receipt's full encoding (Receipt.Marshal)
//	sig       uint16 length (0..128) + signature bytes
//
// Integers are big-endian; the whole encoding is at most MaxEncodedSize
// bytes. Times lose anything below a millisecond. The signature covers the
// domain prefix "pilot/polo/attestation/v1\x00" followed by every byte
// before the sig field.
func (a Attestation) Marshal() ([]byte, error) {
	body, err := a.body()
	if err != nil {
		return nil, fmt.Errorf("reputation: marshal attestation: %w", err)
	}
	return appendSig(body, a.Sig, "attestation")
}

// body encodes every field of a but the signature.
func (a Attestation) body() ([]byte, error) {
	if err := checkPeerID(a.Issuer, "issuer"); err != nil {
		return nil, err
	}
	if err := checkPeerID(a.Subject, "subject"); err != nil {
		return nil, err
	}
	if !a.Outcome.Valid() {
		return nil, fmt.Errorf("outcome %s", a.Outcome)
	}
	rec, err := a.Receipt.Marshal()
	if err != nil {
		return nil, err
	}
	e := encoder{buf: make([]byte, 0, 512)}
	e.u8(CodecVersion)
	e.blob([]byte(a.Issuer))
	e.blob([]byte(a.Subject))
	e.raw(a.TaskHash[:])
	e.u8(uint8(a.Outcome))
	e.u64(a.Cost)
	e.i64(a.IssuedAt.UnixMilli())
	e.i64(a.Expiry.UnixMilli())
	e.u64(a.Seq)
	e.blob(rec)
	if len(e.buf) > MaxEncodedSize {
		return nil, fmt.Errorf("encoding exceeds %d bytes", MaxEncodedSize)
	}
	return e.buf, nil
}

// UnmarshalAttestation decodes a canonical attestation encoding (see
// Attestation.Marshal), including the embedded receipt. It rejects unknown
// versions, out-of-bound lengths, invalid outcomes and trailing bytes; it
// verifies no signature and no rule (Rules.Check does).
func UnmarshalAttestation(b []byte) (Attestation, error) {
	a, err := decodeAttestation(b)
	if err != nil {
		return Attestation{}, fmt.Errorf("reputation: unmarshal attestation: %w: %w", ErrDecode, err)
	}
	return a, nil
}

func decodeAttestation(b []byte) (Attestation, error) {
	if len(b) > MaxEncodedSize {
		return Attestation{}, fmt.Errorf("%d bytes exceed %d", len(b), MaxEncodedSize)
	}
	d := decoder{b: b}
	var a Attestation
	if v := d.u8("version"); d.err == nil && v != CodecVersion {
		return Attestation{}, fmt.Errorf("version %d", v)
	}
	a.Issuer = peer.ID(d.blob(1, MaxPeerIDLen, "issuer"))
	a.Subject = peer.ID(d.blob(1, MaxPeerIDLen, "subject"))
	d.fixed(a.TaskHash[:], "task hash")
	a.Outcome = Outcome(d.u8("outcome"))
	a.Cost = d.u64("cost")
	a.IssuedAt = fromMillis(d.i64("issued at"))
	a.Expiry = fromMillis(d.i64("expiry"))
	a.Seq = d.u64("seq")
	rec := d.blob(1, MaxEncodedSize, "receipt")
	a.Sig = d.blob(0, MaxSigLen, "signature")
	if err := d.done(); err != nil {
		return Attestation{}, err
	}
	if !a.Outcome.Valid() {
		return Attestation{}, fmt.Errorf("outcome %s", a.Outcome)
	}
	r, err := decodeReceipt(rec)
	if err != nil {
		return Attestation{}, fmt.Errorf("receipt: %w", err)
	}
	a.Receipt = r
	return a, nil
}

// appendSig finishes an encoding with the signature field.
func appendSig(body, sig []byte, what string) ([]byte, error) {
	if len(sig) > MaxSigLen {
		return nil, fmt.Errorf("reputation: marshal %s: signature of %d bytes exceeds %d", what, len(sig), MaxSigLen)
	}
	e := encoder{buf: body}
	e.blob(sig)
	if len(e.buf) > MaxEncodedSize {
		return nil, fmt.Errorf("reputation: marshal %s: encoding exceeds %d bytes", what, MaxEncodedSize)
	}
	return e.buf, nil
}

// checkPeerID enforces the encoding's peer ID bounds.
func checkPeerID(id peer.ID, what string) error {
	if n := len(id); n == 0 || n > MaxPeerIDLen {
		return fmt.Errorf("%s peer ID of %d bytes outside [1, %d]", what, n, MaxPeerIDLen)
	}
	return nil
}

// fromMillis turns unix milliseconds into a UTC time.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
