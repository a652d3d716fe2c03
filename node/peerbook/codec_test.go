package peerbook

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
)

// TestEncodingLayout pins the version 1 bytes.
func TestEncodingLayout(t *testing.T) {
	e := Entry{
		ID:       newID(t),
		Addrs:    []ma.Multiaddr{addr(t, "/ip4/1.2.3.4/tcp/80")},
		LastSeen: time.Unix(0, 0x0102030405060708),
		Server:   true,
	}
	v, err := encodeEntry(e)
	require.NoError(t, err)
	require.Equal(t, "01"+"01"+"0102030405060708"+"01"+"0008"+"0401020304060050", hex.EncodeToString(v))

	got, err := decodeEntry(entryKey(e.ID), v)
	require.NoError(t, err)
	requireSame(t, []Entry{e}, []Entry{got})
	require.Equal(t, time.UTC, got.LastSeen.Location())
}

func TestDecodeRefuses(t *testing.T) {
	e := entry(t, t0, false)
	key := entryKey(e.ID)
	good, err := encodeEntry(e)
	require.NoError(t, err)
	edit := func(f func(v []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// oneAddr is good's header with one address of raw bytes.
	oneAddr := func(raw []byte) []byte {
		v := append(bytes.Clone(good[:headerLen-1]), 1)
		v = binary.BigEndian.AppendUint16(v, uint16(len(raw)))
		return append(v, raw...)
	}
	relay := addr(t, "/ip4/192.0.2.1/tcp/1/p2p-circuit").Bytes()
	withP2P := addr(t, "/ip4/192.0.2.1/tcp/1/p2p/"+e.ID.String()).Bytes()

	cases := map[string]struct{ key, value []byte }{
		"other prefix":  {append([]byte("/trust/"), e.ID...), good},
		"no peer ID":    {[]byte(keyPrefix), good},
		"bad peer ID":   {[]byte(keyPrefix + "xyz"), good},
		"empty":         {key, nil},
		"short header":  {key, good[:headerLen-1]},
		"version 0":     {key, edit(func(v []byte) []byte { v[0] = 0; return v })},
		"version 2":     {key, edit(func(v []byte) []byte { v[0] = 2; return v })},
		"unknown flag":  {key, edit(func(v []byte) []byte { v[1] = 2; return v })},
		"zero time":     {key, edit(func(v []byte) []byte { clear(v[2:10]); return v })},
		"negative time": {key, edit(func(v []byte) []byte { v[2] = 0x80; return v })},
		"no addrs":      {key, edit(func(v []byte) []byte { v[10] = 0; return v })},
		"nine addrs":    {key, edit(func(v []byte) []byte { v[10] = 9; return v })},
		"count too big": {key, edit(func(v []byte) []byte { v[10] = 3; return v })},
		"zero length":   {key, edit(func(v []byte) []byte { v[11], v[12] = 0, 0; return v })},
		"length 257":    {key, edit(func(v []byte) []byte { binary.BigEndian.PutUint16(v[11:], 257); return v })},
		"length past end": {key, edit(func(v []byte) []byte {
			binary.BigEndian.PutUint16(v[11:], uint16(len(v)))
			return v
		})},
		"trailing byte":   {key, append(bytes.Clone(good), 0)},
		"cut last addr":   {key, good[:len(good)-1]},
		"bad multiaddr":   {key, oneAddr([]byte{0xff, 0xff})},
		"relay multiaddr": {key, oneAddr(relay)},
		"p2p multiaddr":   {key, oneAddr(withP2P)},
	}
	require.NotPanics(t, func() { _, _ = decodeEntry(key, oneAddr(relay[:3])) })
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeEntry(c.key, c.value)
			require.ErrorIs(t, err, ErrInvalid)
			t.Log(err)
		})
	}
}
