package reputation

import (
	"crypto/rand"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

func TestSignChecksKey(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	a := build(t, spec{worker: w, requester: q}, nil)

	_, err := SignReceipt(q.priv, a.Receipt) // requester's key for the worker
	require.ErrorContains(t, err, "reputation: sign receipt")
	_, err = SignReceipt(nil, a.Receipt)
	require.Error(t, err)
	_, err = SignAttestation(w.priv, a) // worker's key for the issuer
	require.ErrorContains(t, err, "reputation: sign attestation")

	secp, _, err := crypto.GenerateSecp256k1Key(rand.Reader)
	require.NoError(t, err)
	sid, err := peer.IDFromPrivateKey(secp)
	require.NoError(t, err)
	r := a.Receipt
	r.Worker = sid
	_, err = SignReceipt(secp, r)
	require.ErrorContains(t, err, "not Ed25519")

	// A secp256k1 worker that signs anyway does not verify.
	r = forceSignReceipt(t, secp, r)
	require.ErrorIs(t, r.Verify(), ErrBadSignature)

	signed, err := SignAttestation(q.priv, a)
	require.NoError(t, err)
	require.NoError(t, signed.Verify())
	require.Equal(t, a.Sig, signed.Sig, "Ed25519 signatures are deterministic")
}

func TestSignAttestationChecksReceipt(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	a := build(t, spec{worker: w, requester: q}, nil)
	bad := a
	bad.Receipt.Sig = append([]byte(nil), a.Receipt.Sig...)
	bad.Receipt.Sig[0] ^= 1
	_, err := SignAttestation(q.priv, bad)
	require.ErrorIs(t, err, ErrBadSignature)

	bad = a
	bad.Cost++
	_, err = SignAttestation(q.priv, bad)
	require.ErrorContains(t, err, "cost")
}

func TestVerifyDetectsTampering(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	a := build(t, spec{worker: w, requester: q}, nil)
	require.NoError(t, a.Verify())
	for name, edit := range map[string]func(*Attestation){
		"seq":             func(a *Attestation) { a.Seq++ },
		"expiry":          func(a *Attestation) { a.Expiry = a.Expiry.Add(1e6) },
		"receipt result":  func(a *Attestation) { a.Receipt.ResultHash[0] ^= 1 },
		"issuer sig gone": func(a *Attestation) { a.Sig = nil },
	} {
		t.Run(name, func(t *testing.T) {
			b := a
			edit(&b)
			require.ErrorIs(t, b.Verify(), ErrBadSignature)
		})
	}
}

// nonCanonicalID returns another peer ID for the same Ed25519 key: the
// key's protobuf fields in reverse order, which protobuf still decodes.
func nonCanonicalID(t *testing.T, id peer.ID) peer.ID {
	t.Helper()
	pub, err := id.ExtractPublicKey()
	require.NoError(t, err)
	raw, err := pub.Raw()
	require.NoError(t, err)
	pb := append([]byte{0x12, byte(len(raw))}, raw...)
	pb = append(pb, 0x08, 0x01)
	other := peer.ID(append([]byte{0x00, byte(len(pb))}, pb...))
	got, err := other.ExtractPublicKey()
	require.NoError(t, err)
	require.True(t, got.Equals(pub))
	require.NotEqual(t, id, other)
	return other
}

func TestNonCanonicalPeerIDRejected(t *testing.T) {
	w, q := identN(t, 1), identN(t, 2)
	a := build(t, spec{worker: w, requester: q}, func(a *Attestation) {
		a.Issuer = nonCanonicalID(t, q.id)
		a.Receipt.Requester = a.Issuer
	})
	a.Receipt = forceSignReceipt(t, w.priv, a.Receipt)
	a = forceSign(t, q.priv, a)
	require.ErrorIs(t, a.Verify(), ErrBadSignature)
}
