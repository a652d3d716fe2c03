package addressing

import (
	"bufio"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// TestDocVectors checks every row of the test-vector table in
// docs/addressing.md against the code.
func TestDocVectors(t *testing.T) {
	f, err := os.Open("../docs/addressing.md")
	require.NoError(t, err)
	defer f.Close()

	rows := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) != 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		field := func(i int) string { return strings.Trim(strings.TrimSpace(cells[i]), "`") }
		seed, err := hex.DecodeString(field(1))
		require.NoError(t, err)
		priv, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
		require.NoError(t, err)
		pub := priv.GetPublic()

		raw, err := crypto.MarshalPublicKey(pub)
		require.NoError(t, err)
		require.Equal(t, field(2), hex.EncodeToString(raw), "marshalled key")

		id, err := peer.IDFromPublicKey(pub)
		require.NoError(t, err)
		require.Equal(t, field(3), id.String(), "peer ID")

		a, err := FromPublicKey(pub)
		require.NoError(t, err)
		require.Equal(t, field(4), a.String(), "address")
		require.Equal(t, a, FromMarshalledKey(raw))
		fromID, err := FromPeerID(id)
		require.NoError(t, err)
		require.Equal(t, a, fromID)
		require.True(t, a.Matches(pub))
		rows++
	}
	require.NoError(t, sc.Err())
	require.GreaterOrEqual(t, rows, 3, "test vector table not found in docs/addressing.md")
}

func TestParse(t *testing.T) {
	want := Addr{0x3f, 0x2a, 0x91, 0xc0, 0x7d, 0x14}
	tests := []struct {
		in      string
		wantErr string
	}{
		{in: "3f2a.91c0.7d14"},
		{in: "3F2A.91C0.7D14"},
		{in: "3f2a91c07d14"},
		{in: "3F2a91C07d14"},
		{in: "", wantErr: "12 hex digits"},
		{in: "zzzz", wantErr: "12 hex digits"},
		{in: "3f2a.91c0.7d1", wantErr: "three groups"},
		{in: "3f2a.91c0.7d145", wantErr: "three groups"},
		{in: "3f2a91c0.7d14", wantErr: "three groups"},
		{in: "3f2a.91c07d14.", wantErr: "three groups"},
		{in: "3f2a.91c0.7d1g", wantErr: "hex digits"},
		{in: "3f2a-91c0-7d14", wantErr: "hex digits"},
		{in: "3f2a91c07d14 ", wantErr: "12 hex digits"},
		{in: " 3f2a91c07d1", wantErr: "hex digits"},
		{in: "3f2a91c07d1\x00", wantErr: "hex digits"},
		{in: "0x3f2a91c07d", wantErr: "hex digits"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				require.True(t, errors.Is(err, ErrInvalid))
				require.Contains(t, err.Error(), tt.wantErr)
				require.True(t, got.IsZero())
				return
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.Equal(t, "3f2a.91c0.7d14", got.String())
			require.Equal(t, "3f2a91c07d14", got.Hex())
		})
	}
}

func TestParseSocket(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{in: "3f2a.91c0.7d14:1001", want: "3f2a.91c0.7d14:1001"},
		{in: "3F2A91C07D14:0", want: "3f2a.91c0.7d14:0"},
		{in: "3f2a.91c0.7d14:65535", want: "3f2a.91c0.7d14:65535"},
		{in: "3f2a.91c0.7d14:007", want: "3f2a.91c0.7d14:7"},
		{in: "3f2a.91c0.7d14:65536", wantErr: true},
		{in: "3f2a.91c0.7d14:", wantErr: true},
		{in: "3f2a.91c0.7d14", wantErr: true},
		{in: "3f2a.91c0.7d14:-1", wantErr: true},
		{in: "3f2a.91c0.7d14:+1", wantErr: true},
		{in: "3f2a.91c0.7d14:1:2", wantErr: true},
		{in: "3f2a.91c0.7d14:0x10", wantErr: true},
		{in: "3f2a.91c0.7d14:100000", wantErr: true},
		{in: "zz:80", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSocket(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.String())
		})
	}
}

func TestTextMarshalling(t *testing.T) {
	a := MustParse("ca5c.6919.b49d")
	b, err := a.MarshalText()
	require.NoError(t, err)
	var back Addr
	require.NoError(t, back.UnmarshalText(b))
	require.Equal(t, a, back)
	require.Error(t, back.UnmarshalText([]byte("nope")))
	require.Equal(t, a, back, "a failed unmarshal leaves the value unchanged")
}

func TestFromPublicKeyErrors(t *testing.T) {
	_, err := FromPublicKey(nil)
	require.Error(t, err)
	_, err = FromPeerID(peer.ID("not a peer id"))
	require.Error(t, err)
}
