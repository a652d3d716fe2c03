package reputation

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

func TestOutcomeString(t *testing.T) {
	require.Equal(t, "success", Success.String())
	require.Equal(t, "failure", Failure.String())
	require.Equal(t, "invalid(0)", Outcome(0).String())
	require.False(t, Outcome(3).Valid())
}

func TestRoundTrip(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	a := build(t, spec{worker: w, requester: q, cost: 1234, outcome: Failure, seq: 7}, nil)
	raw := mustMarshal(t, a)
	require.LessOrEqual(t, len(raw), MaxEncodedSize)

	got, err := UnmarshalAttestation(raw)
	require.NoError(t, err)
	require.Equal(t, a.Issuer, got.Issuer)
	require.Equal(t, a.Subject, got.Subject)
	require.Equal(t, a.TaskHash, got.TaskHash)
	require.Equal(t, Failure, got.Outcome)
	require.Equal(t, uint64(1234), got.Cost)
	require.True(t, a.IssuedAt.Equal(got.IssuedAt))
	require.True(t, a.Expiry.Equal(got.Expiry))
	require.Equal(t, uint64(7), got.Seq)
	require.Equal(t, a.Sig, got.Sig)
	require.Equal(t, a.Receipt.Sig, got.Receipt.Sig)
	require.True(t, a.Receipt.EndedAt.Equal(got.Receipt.EndedAt))
	require.NoError(t, got.Verify())
	require.Equal(t, a.ID(), got.ID())
	require.Equal(t, IDOf(raw), got.ID())

	rraw, err := a.Receipt.Marshal()
	require.NoError(t, err)
	r, err := UnmarshalReceipt(rraw)
	require.NoError(t, err)
	require.NoError(t, r.Verify())
	again, err := r.Marshal()
	require.NoError(t, err)
	require.Equal(t, rraw, again)
}

func TestCanonicalEncoding(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	// Sub-millisecond parts are dropped before signing, so the signature
	// still verifies after a round trip.
	issued := t0.Add(-time.Minute + 123456*time.Nanosecond)
	a := build(t, spec{worker: w, requester: q, issuedAt: issued}, nil)
	raw := mustMarshal(t, a)
	got, err := UnmarshalAttestation(raw)
	require.NoError(t, err)
	require.NoError(t, got.Verify())
	require.Equal(t, issued.Truncate(time.Millisecond), got.IssuedAt)
	require.Equal(t, raw, mustMarshal(t, got))
	// Time zones do not change the encoding.
	a.IssuedAt = a.IssuedAt.In(time.FixedZone("x", 3600))
	require.Equal(t, raw, mustMarshal(t, a))
}

func TestMarshalErrors(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	good := build(t, spec{worker: w, requester: q}, nil)
	cases := map[string]func(*Attestation){
		"empty issuer":         func(a *Attestation) { a.Issuer = "" },
		"long subject":         func(a *Attestation) { a.Subject = peerIDOfLen(MaxPeerIDLen + 1) },
		"invalid outcome":      func(a *Attestation) { a.Outcome = 3 },
		"long signature":       func(a *Attestation) { a.Sig = make([]byte, MaxSigLen+1) },
		"receipt empty worker": func(a *Attestation) { a.Receipt.Worker = "" },
		"receipt outcome":      func(a *Attestation) { a.Receipt.Outcome = 0 },
		"receipt long sig":     func(a *Attestation) { a.Receipt.Sig = make([]byte, MaxSigLen+1) },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			a := good
			edit(&a)
			_, err := a.Marshal()
			require.Error(t, err)
			require.Contains(t, err.Error(), "reputation: marshal")
			require.Equal(t, [32]byte{}, a.ID())
		})
	}
}

// TestMaxSizeFits checks that every field at its bound still fits
// MaxEncodedSize: 1+66+66+32+1+8+8+8+8+(2+344)+130 = 674 bytes.
func TestMaxSizeFits(t *testing.T) {
	a := Attestation{
		Issuer: peerIDOfLen(MaxPeerIDLen), Subject: peerIDOfLen(MaxPeerIDLen),
		Outcome: Success, Sig: make([]byte, MaxSigLen),
		Receipt: Receipt{Worker: peerIDOfLen(MaxPeerIDLen), Requester: peerIDOfLen(MaxPeerIDLen),
			Outcome: Success, Sig: make([]byte, MaxSigLen)},
	}
	raw, err := a.Marshal()
	require.NoError(t, err)
	require.Len(t, raw, 674)
	got, err := UnmarshalAttestation(raw)
	require.NoError(t, err)
	require.Equal(t, raw, mustMarshal(t, got))
}

func peerIDOfLen(n int) peer.ID { return peer.ID(make([]byte, n)) }

func TestUnmarshalErrors(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	a := build(t, spec{worker: w, requester: q}, nil)
	raw := mustMarshal(t, a)
	rraw, err := a.Receipt.Marshal()
	require.NoError(t, err)
	issuerLen := 1 // offset of the issuer length
	outcomeOff := 1 + 2 + len(a.Issuer) + 2 + len(a.Subject) + 32
	receiptLenOff := outcomeOff + 1 + 8 + 8 + 8 + 8

	mod := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), raw...))
	}
	cases := map[string][]byte{
		"empty":            nil,
		"version 0":        mod(func(b []byte) []byte { b[0] = 0; return b }),
		"version 2":        mod(func(b []byte) []byte { b[0] = 2; return b }),
		"trailing byte":    append(append([]byte(nil), raw...), 0),
		"truncated":        raw[:len(raw)-1],
		"issuer length 0":  mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[issuerLen:], 0); return b }),
		"issuer length 65": mod(func(b []byte) []byte { binary.BigEndian.PutUint16(b[issuerLen:], 65); return b }),
		"issuer length max": mod(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[issuerLen:], 0xffff)
			return b
		}),
		"outcome 0": mod(func(b []byte) []byte { b[outcomeOff] = 0; return b }),
		"outcome 3": mod(func(b []byte) []byte { b[outcomeOff] = 3; return b }),
		"receipt length short": mod(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[receiptLenOff:], uint16(len(rraw)-1))
			return b
		}),
		"receipt length huge": mod(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[receiptLenOff:], 0xffff)
			return b
		}),
		"oversize": make([]byte, MaxEncodedSize+1),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := UnmarshalAttestation(b)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrDecode), "%v", err)
		})
	}

	rcases := map[string][]byte{
		"empty":      nil,
		"truncated":  rraw[:len(rraw)-3],
		"trailing":   append(append([]byte(nil), rraw...), 1),
		"version 9":  append([]byte{9}, rraw[1:]...),
		"sig 129":    append(append(append([]byte(nil), rraw[:len(rraw)-66]...), 0, 129), make([]byte, 129)...),
		"oversize":   make([]byte, MaxEncodedSize+1),
		"only magic": {1},
	}
	for name, b := range rcases {
		t.Run("receipt/"+name, func(t *testing.T) {
			_, err := UnmarshalReceipt(b)
			require.ErrorIs(t, err, ErrDecode)
		})
	}
}
