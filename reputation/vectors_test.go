package reputation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Test vectors: deterministic keys and a fixed receipt and attestation, so
// another implementation can check its encoding, signatures and IDs.
//
//	worker key:    Ed25519 seed = 32 bytes of 0x01
//	requester key: Ed25519 seed = 32 bytes of 0x02
//	receipt:       TaskHash = SHA-256("pilot/polo/vector/task"),
//	               ResultHash = SHA-256("pilot/polo/vector/result"),
//	               Outcome = success, Cost = 1500,
//	               EndedAt = 2026-01-02T03:04:05.678Z
//	attestation:   IssuedAt = 2026-01-02T03:04:06.789Z,
//	               Expiry = IssuedAt + 30 days, Seq = 1
const (
	vectorWorkerID    = "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"
	vectorRequesterID = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"
	vectorReceiptHex  = "0100260024080112208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d9412" +
		"1bf3748801b40f6f5c00260024080112208139770ea87d175f56a35466c34c7e" +
		"cccb8d8a91b4ee37a25df60f5b8fc9b3943499ca1bec5bbd1cee658095c6dd21" +
		"1090c31dfb7f18c13c485b36546d5d9e2d7a823a64b8301f614580e3cfdf5d52" +
		"6cce9f8ed14c58ecf59ee1a3ff987fe6680100000000000005dc0000019b7ca9" +
		"8f2e004014b6d49ef51b52314e4436ebb0ea985280c76a07b94592bb7e654a22" +
		"3eb532ab9bb993494dc1f7e59c8c5e39f0e3b60e8231440fe45e82fcbe496b55" +
		"c34f6905"
	vectorAttHex = "0100260024080112208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37" +
		"a25df60f5b8fc9b39400260024080112208a88e3dd7409f195fd52db2d3cba5d" +
		"72ca6709bf1d94121bf3748801b40f6f5c3499ca1bec5bbd1cee658095c6dd21" +
		"1090c31dfb7f18c13c485b36546d5d9e2d0100000000000005dc0000019b7ca9" +
		"93850000019c17285b85000000000000000100e40100260024080112208a88e3" +
		"dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c002600" +
		"24080112208139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f" +
		"5b8fc9b3943499ca1bec5bbd1cee658095c6dd211090c31dfb7f18c13c485b36" +
		"546d5d9e2d7a823a64b8301f614580e3cfdf5d526cce9f8ed14c58ecf59ee1a3" +
		"ff987fe6680100000000000005dc0000019b7ca98f2e004014b6d49ef51b5231" +
		"4e4436ebb0ea985280c76a07b94592bb7e654a223eb532ab9bb993494dc1f7e5" +
		"9c8c5e39f0e3b60e8231440fe45e82fcbe496b55c34f690500406309bc235bb6" +
		"66a5cfd06405afc1afcda3cbedc8fdffdbf0c887599f94834b7336f55b080195" +
		"e7eee75fea20398b5212f11f36274c5b097d01de0e6b43715a09"
	vectorAttIDHex = "3cb903d7e0f38f0599744b4e29cb5cb5885721b7b552ae79180c2ac351a7ab23"
)

// vectorFixture builds the vector receipt and attestation.
func vectorFixture(tb testing.TB) (Receipt, Attestation) {
	tb.Helper()
	worker := identFromSeed(tb, [32]byte(bytes.Repeat([]byte{0x01}, 32)))
	requester := identFromSeed(tb, [32]byte(bytes.Repeat([]byte{0x02}, 32)))
	ended := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	issued := time.Date(2026, 1, 2, 3, 4, 6, 789e6, time.UTC)
	r, err := SignReceipt(worker.priv, Receipt{
		Worker:     worker.id,
		Requester:  requester.id,
		TaskHash:   sha256.Sum256([]byte("pilot/polo/vector/task")),
		ResultHash: sha256.Sum256([]byte("pilot/polo/vector/result")),
		Outcome:    Success,
		Cost:       1500,
		EndedAt:    ended,
	})
	require.NoError(tb, err)
	a, err := SignAttestation(requester.priv, NewAttestation(r, issued, issued.Add(30*24*time.Hour), 1))
	require.NoError(tb, err)
	return r, a
}

func TestVectors(t *testing.T) {
	r, a := vectorFixture(t)
	rraw, err := r.Marshal()
	require.NoError(t, err)
	araw := mustMarshal(t, a)
	id := a.ID()

	t.Log("Polo test vectors (paste into docs):\n" + fmt.Sprintf(
		"worker peer ID:    %s\nrequester peer ID: %s\nreceipt (%d bytes):\n%s\nattestation (%d bytes):\n%s\nattestation ID: %s",
		r.Worker, r.Requester, len(rraw), hex.EncodeToString(rraw), len(araw), hex.EncodeToString(araw), hex.EncodeToString(id[:])))

	require.Equal(t, vectorWorkerID, r.Worker.String())
	require.Equal(t, vectorRequesterID, r.Requester.String())
	require.Equal(t, vectorReceiptHex, hex.EncodeToString(rraw))
	require.Equal(t, vectorAttHex, hex.EncodeToString(araw))
	require.Equal(t, vectorAttIDHex, hex.EncodeToString(id[:]))

	// The vector decodes, verifies and passes the rules on its issue day.
	raw, err := hex.DecodeString(vectorAttHex)
	require.NoError(t, err)
	rules := Rules{Now: func() time.Time { return a.IssuedAt.Add(time.Hour) }}
	got, err := rules.Check(raw)
	require.NoError(t, err)
	require.Equal(t, raw, mustMarshal(t, got))
}
