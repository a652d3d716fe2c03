package dht

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/addressing"
)

func newKey(t testing.TB) (crypto.PrivKey, addressing.Addr) {
	t.Helper()
	priv, _, err := crypto.GenerateEd25519Key(rand.Reader)
	require.NoError(t, err)
	a, err := addressing.FromPublicKey(priv.GetPublic())
	require.NoError(t, err)
	return priv, a
}

var testAddrs = []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4410"), ma.StringCast("/ip4/127.0.0.1/udp/4410/quic-v1")}

func signed(t testing.TB, priv crypto.PrivKey, seq uint64) []byte {
	t.Helper()
	b, err := SignAddrRecord(priv, testAddrs, seq)
	require.NoError(t, err)
	return b
}

func TestValidatorAcceptsOwnRecord(t *testing.T) {
	priv, a := newKey(t)
	v := NewValidator()
	val := signed(t, priv, peer.TimestampSeq())
	require.NoError(t, v.Validate(AddrKey(a), val))
	rec, err := DecodeAddrRecord(AddrKey(a), val, time.Now())
	require.NoError(t, err)
	id, _ := peer.IDFromPrivateKey(priv)
	require.Equal(t, id, rec.PeerID)
	require.Equal(t, a, rec.Addr)
	require.Len(t, rec.Addrs, 2)
}

func TestValidatorRejects(t *testing.T) {
	priv, a := newKey(t)
	other, otherAddr := newKey(t)
	now := time.Now()
	seq := uint64(now.UnixNano())

	// A PeerRecord naming priv's peer but sealed by another key.
	id, _ := peer.IDFromPrivateKey(priv)
	env, err := record.Seal(&peer.PeerRecord{PeerID: id, Addrs: testAddrs, Seq: seq}, other)
	require.NoError(t, err)
	wrongSigner, err := env.Marshal()
	require.NoError(t, err)

	// Tamper with a valid envelope's payload: the signature must fail.
	tampered := append([]byte(nil), signed(t, priv, seq)...)
	tampered[len(tampered)-1] ^= 0xff

	tooMany := make([]ma.Multiaddr, MaxRecordAddrs+1)
	for i := range tooMany {
		tooMany[i] = ma.StringCast("/ip4/127.0.0.1/tcp/1")
	}
	env, err = record.Seal(&peer.PeerRecord{PeerID: id, Addrs: tooMany, Seq: seq}, priv)
	require.NoError(t, err)
	manyAddrs, err := env.Marshal()
	require.NoError(t, err)

	tests := []struct {
		name  string
		key   string
		value []byte
		want  string
	}{
		{"signed by another key for my address", AddrKey(a), wrongSigner, "signed by the key of"},
		{"valid record under another address", AddrKey(otherAddr), signed(t, priv, seq), "signed by the key of"},
		{"peer ID differs from signer", AddrKey(otherAddr), wrongSigner, "record names peer"},
		{"tampered payload", AddrKey(a), tampered, "invalid address record"},
		{"garbage", AddrKey(a), []byte("definitely not an envelope"), "invalid address record"},
		{"empty", AddrKey(a), nil, "invalid address record"},
		{"oversized", AddrKey(a), make([]byte, MaxRecordSize+1), "over the"},
		{"zero seq", AddrKey(a), signed(t, priv, 0), "seq is zero"},
		{"seq far in the future", AddrKey(a), signed(t, priv, uint64(now.Add(2*MaxClockSkew).UnixNano())), "in the future"},
		{"too many addrs", AddrKey(a), manyAddrs, "multiaddrs, over"},
		{"uppercase key", "/pilot/addr/" + "ABCDEF012345", signed(t, priv, seq), "lowercase"},
		{"dotted key", "/pilot/addr/" + a.String(), signed(t, priv, seq), "lowercase"},
		{"unknown record type", "/pilot/nosuch/" + a.Hex(), signed(t, priv, seq), "unknown record type"},
	}
	v := &Validator{Now: func() time.Time { return now }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.Validate(tt.key, tt.value)
			require.ErrorIs(t, err, ErrInvalidRecord)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestSelectHighestSeqDeterministic(t *testing.T) {
	priv, a := newKey(t)
	v := NewValidator()
	key := AddrKey(a)
	base := peer.TimestampSeq()
	low, high := signed(t, priv, base), signed(t, priv, base+10)

	i, err := v.Select(key, [][]byte{low, high})
	require.NoError(t, err)
	require.Equal(t, 1, i)
	i, err = v.Select(key, [][]byte{high, low, []byte("junk")})
	require.NoError(t, err)
	require.Equal(t, 0, i)

	// Ed25519 signatures are deterministic, so make a tie out of two
	// different address lists with the same seq.
	other, err := SignAddrRecord(priv, testAddrs[:1], base+10)
	require.NoError(t, err)
	first, err := v.Select(key, [][]byte{high, other})
	require.NoError(t, err)
	second, err := v.Select(key, [][]byte{other, high})
	require.NoError(t, err)
	require.Equal(t, [][]byte{high, other}[first], [][]byte{other, high}[second], "ties must pick the same value whatever the order")

	_, err = v.Select(key, [][]byte{[]byte("junk")})
	require.ErrorIs(t, err, ErrInvalidRecord)
}

func TestClaimantsSeesCollisions(t *testing.T) {
	priv, a := newKey(t)
	v := NewValidator()
	require.NoError(t, v.Validate(AddrKey(a), signed(t, priv, peer.TimestampSeq())))
	require.Len(t, v.Claimants(a), 1)
	// A real collision needs ~2^24 keys; simulate the second claimant
	// by noting it directly.
	other, _ := newKey(t)
	otherID, _ := peer.IDFromPrivateKey(other)
	v.claims.note(a, otherID)
	require.Len(t, v.Claimants(a), 2)
}

func TestParseAddrKey(t *testing.T) {
	a := addressing.MustParse("3f2a.91c0.7d14")
	got, err := ParseAddrKey(AddrKey(a))
	require.NoError(t, err)
	require.Equal(t, a, got)
	for _, bad := range []string{"", "/pilot/addr/", "/pilot/addr/3f2a91c07d1", "/ipns/3f2a91c07d14", "/pilot/addr/3f2a91c07d14/x"} {
		_, err := ParseAddrKey(bad)
		require.ErrorIs(t, err, ErrInvalidRecord, bad)
	}
}
