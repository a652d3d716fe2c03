package reputation

import (
	"bytes"
	"testing"
)

// fuzzSeeds returns valid encodings from f, plus every truncation of each.
func fuzzSeeds(f *testing.F, encodings ...[]byte) {
	for _, enc := range encodings {
		for n := 0; n <= len(enc); n++ {
			f.Add(enc[:n])
		}
		f.Add(append(append([]byte(nil), enc...), 0))
	}
}

func fuzzAttestations(f *testing.F) [][]byte {
	_, vec := vectorFixture(f)
	w, q := identN(f, 1), identN(f, 2)
	return [][]byte{
		mustMarshal(f, vec),
		mustMarshal(f, build(f, spec{worker: w, requester: q, outcome: Failure, cost: 1 << 40, seq: 1 << 62}, nil)),
	}
}

func FuzzUnmarshalAttestation(f *testing.F) {
	fuzzSeeds(f, fuzzAttestations(f)...)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := UnmarshalAttestation(b)
		if err != nil {
			return
		}
		again, err := a.Marshal()
		if err != nil {
			t.Fatalf("decoded attestation does not re-encode: %v", err)
		}
		if !bytes.Equal(b, again) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, again)
		}
		if a.ID() != IDOf(b) {
			t.Fatal("ID differs from the hash of the input")
		}
		_ = a.Verify() // must not panic on any decoded input
	})
}

func FuzzUnmarshalReceipt(f *testing.F) {
	var seeds [][]byte
	for _, raw := range fuzzAttestations(f) {
		a, err := UnmarshalAttestation(raw)
		if err != nil {
			f.Fatal(err)
		}
		rraw, err := a.Receipt.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, rraw)
	}
	fuzzSeeds(f, seeds...)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalReceipt(b)
		if err != nil {
			return
		}
		again, err := r.Marshal()
		if err != nil {
			t.Fatalf("decoded receipt does not re-encode: %v", err)
		}
		if !bytes.Equal(b, again) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, again)
		}
		_ = r.Verify()
	})
}

// FuzzIndexMeta covers the decoder of the ID index values read from disk.
func FuzzIndexMeta(f *testing.F) {
	w, q := identN(f, 1), identN(f, 2)
	fuzzSeeds(f, indexMeta{issuer: q.id, subject: w.id, issuedAt: t0, expiry: t0.Add(1e12)}.marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := unmarshalIndexMeta(b)
		if err != nil {
			return
		}
		if again := m.marshal(); !bytes.Equal(b, again) {
			t.Fatalf("not canonical:\n in  %x\n out %x", b, again)
		}
	})
}
