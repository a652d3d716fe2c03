package trust

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// fixedKey is a deterministic Ed25519 key for seeds and vectors.
func fixedKey(t testing.TB, b byte) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{b}, 64)))
	require.NoError(t, err)
	id, err := peer.IDFromPrivateKey(k)
	require.NoError(t, err)
	return k, id
}

func TestFrameRoundTrip(t *testing.T) {
	key, from := fixedKey(t, 1)
	_, to := fixedKey(t, 2)
	issued := time.UnixMilli(1_700_000_000_123)
	for _, tc := range []struct {
		kind Kind
		msg  string
	}{
		{KindRequest, ""},
		{KindRequest, "hello\tworld\n"},
		{KindRequest, strings.Repeat("é", 512)},
		{KindApprove, ""},
		{KindReject, ""},
		{KindRevoke, ""},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			body := signed(t, key, to, tc.kind, 42, issued, tc.msg)
			require.LessOrEqual(t, len(body), MaxFrameSize)
			f, err := decodeFrame(body)
			require.NoError(t, err)
			require.Equal(t, tc.kind, f.Kind)
			require.Equal(t, from, f.From)
			require.Equal(t, to, f.To)
			require.Equal(t, issued.UnixMilli(), f.IssuedAt)
			require.Equal(t, uint64(42), f.Seq)
			require.Equal(t, tc.msg, f.Message)
			require.NoError(t, f.verify())

			var buf bytes.Buffer
			require.NoError(t, writeFrame(&buf, body))
			got, err := readFrame(&buf)
			require.NoError(t, err)
			require.Equal(t, body, got)
		})
	}
}

// TestSigningDomain: the signature covers the domain-separated payload, so
// the same bytes signed without the prefix do not verify.
func TestSigningDomain(t *testing.T) {
	key, _ := fixedKey(t, 1)
	_, to := fixedKey(t, 2)
	body := signed(t, key, to, KindApprove, 1, time.Now(), "")
	f, err := decodeFrame(body)
	require.NoError(t, err)
	bare, err := key.Sign(f.signed)
	require.NoError(t, err)
	f.Sig = bare
	require.ErrorIs(t, f.verify(), errBadSignature)
}

func TestDecodeErrors(t *testing.T) {
	key, from := fixedKey(t, 1)
	_, to := fixedKey(t, 2)
	good := signed(t, key, to, KindRequest, 7, time.Now(), "hi")
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	off := 2 + 1 + len(from) + 1 + len(to) // start of issued-at
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":          {nil, errMalformed},
		"version":        {mutate(func(b []byte) []byte { b[0] = 9; return b }), errVersion},
		"kind 0":         {mutate(func(b []byte) []byte { b[1] = 0; return b }), errMalformed},
		"kind 5":         {mutate(func(b []byte) []byte { b[1] = 5; return b }), errMalformed},
		"trailing":       {append(append([]byte(nil), good...), 0), errMalformed},
		"truncated":      {good[:len(good)-1], errMalformed},
		"peer len 0":     {mutate(func(b []byte) []byte { b[2] = 0; return b }), errMalformed},
		"peer len 200":   {mutate(func(b []byte) []byte { b[2] = 200; return b }), errMalformed},
		"issued 0":       {mutate(func(b []byte) []byte { clear(b[off : off+8]); return b }), errMalformed},
		"seq 0":          {mutate(func(b []byte) []byte { clear(b[off+8 : off+16]); return b }), errMalformed},
		"too large":      {make([]byte, MaxFrameSize+1), errTooLarge},
		"msg on approve": {rawFrame(from, to, KindApprove, "x"), errMalformed},
		"msg not utf-8":  {rawFrame(from, to, KindRequest, "\xff\xfe"), errMalformed},
		"msg too long":   {rawFrame(from, to, KindRequest, strings.Repeat("a", MaxMessageLen+1)), errMalformed},
		"msg control":    {rawFrame(from, to, KindRequest, "a\x00b"), errMalformed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeFrame(tc.b)
			require.ErrorIs(t, err, tc.want)
		})
	}
	// Only Ed25519 senders are accepted (secp256k1 IDs inline their key too).
	secp, _, err := crypto.GenerateSecp256k1Key(bytes.NewReader(bytes.Repeat([]byte{3}, 64)))
	require.NoError(t, err)
	secpID, err := peer.IDFromPrivateKey(secp)
	require.NoError(t, err)
	f, err := decodeFrame(rawFrame(secpID, to, KindApprove, ""))
	require.NoError(t, err)
	require.ErrorIs(t, f.verify(), errBadKey)
}

// rawFrame encodes a frame by hand, bypassing the encoder's checks, with a
// dummy signature.
func rawFrame(from, to peer.ID, k Kind, msg string) []byte {
	b := []byte{frameVersion, byte(k), byte(len(from))}
	b = append(b, from...)
	b = append(b, byte(len(to)))
	b = append(b, to...)
	b = binary.BigEndian.AppendUint64(b, 1)
	b = binary.BigEndian.AppendUint64(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	b = append(b, msg...)
	return append(b, 1, 0xAA)
}

func TestReadFrameBounds(t *testing.T) {
	_, err := readFrame(bytes.NewReader([]byte{0xFF, 0xFF}))
	require.ErrorIs(t, err, errTooLarge, "refused before reading the body")
	_, err = readFrame(bytes.NewReader([]byte{0x00}))
	require.ErrorIs(t, err, errMalformed)
	require.ErrorIs(t, writeFrame(&bytes.Buffer{}, make([]byte, MaxFrameSize+1)), errTooLarge)
}

func TestEncodeRefusesInvalid(t *testing.T) {
	key, from := fixedKey(t, 1)
	_, to := fixedKey(t, 2)
	for name, f := range map[string]frame{
		"kind":       {Kind: 9, From: from, To: to, IssuedAt: 1, Seq: 1},
		"no to":      {Kind: KindApprove, From: from, IssuedAt: 1, Seq: 1},
		"seq":        {Kind: KindApprove, From: from, To: to, IssuedAt: 1},
		"issued":     {Kind: KindApprove, From: from, To: to, Seq: 1},
		"msg":        {Kind: KindRevoke, From: from, To: to, IssuedAt: 1, Seq: 1, Message: "x"},
		"msg length": {Kind: KindRequest, From: from, To: to, IssuedAt: 1, Seq: 1, Message: strings.Repeat("a", 1025)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := f.sign(key)
			require.Error(t, err)
		})
	}
}

// FuzzDecodeFrame: the decoder never panics, accepts only frames within the
// bounds, and a frame it accepts re-encodes to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	key, _ := fixedKey(f, 1)
	_, to := fixedKey(f, 2)
	for k := KindRequest; k <= KindRevoke; k++ {
		msg := ""
		if k == KindRequest {
			msg = "please trust me"
		}
		f.Add(signed(f, key, to, k, uint64(k), time.UnixMilli(1_700_000_000_000), msg))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 1, 0})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		if len(b) > MaxFrameSize || len(fr.Message) > MaxMessageLen || fr.Seq == 0 || fr.IssuedAt <= 0 {
			t.Fatalf("accepted out-of-bounds frame %x", b)
		}
		unsigned, err := fr.marshalUnsigned()
		if err != nil {
			t.Fatalf("accepted frame does not re-encode: %v", err)
		}
		re := append(append(unsigned, byte(len(fr.Sig))), fr.Sig...)
		if !bytes.Equal(re, b) || !bytes.Equal(unsigned, fr.signed) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, re)
		}
		_ = fr.verify() // must not panic
	})
}
