package inbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

func TestValidName(t *testing.T) {
	good := []string{"a", "report.pdf", "report v2 (final).pdf", ".hidden", "ünïcødé.txt", "a.b.c", strings.Repeat("n", 255), "-rf"}
	for _, n := range good {
		require.NoError(t, ValidName(n), "%q", n)
	}
	for _, n := range badNames {
		require.Error(t, ValidName(n), "%q", n)
	}
	for _, n := range []string{"\x7f", "a\u0085b", "tab\there"} {
		require.Error(t, ValidName(n), "%q", n)
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	cases := []Header{
		{Kind: KindText, Size: 0},
		{Kind: KindJSON, Size: 12},
		{Kind: KindBinary, Size: DefaultLimits.MaxMessage},
		{Kind: KindFile, Name: "a.bin", Size: DefaultLimits.MaxFile},
		{Kind: KindFile, Name: strings.Repeat("é", 127), Size: 1},
	}
	for _, h := range cases {
		b, err := EncodeHeader(h)
		require.NoError(t, err)
		require.LessOrEqual(t, len(b), MaxHeaderLen)
		got, err := DecodeHeader(bytes.NewReader(b), DefaultLimits)
		require.NoError(t, err)
		require.Equal(t, h, got)
	}
}

func TestDecodeHeaderRefusals(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		status Status
	}{
		{"empty", nil, StatusMalformed},
		{"magic", []byte("XD\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), StatusMalformed},
		{"version 0", rawHeader(0, 1, "", 1), StatusMalformed},
		{"kind 5", rawHeader(1, 5, "", 1), StatusMalformed},
		{"kind 255", rawHeader(1, 255, "", 1), StatusMalformed},
		{"name on json", rawHeader(1, 2, "x", 1), StatusMalformed},
		{"empty file name", rawHeader(1, 4, "", 1), StatusMalformed},
		{"traversal", rawHeader(1, 4, "../../.ssh/authorized_keys", 1), StatusMalformed},
		{"message over limit", rawHeader(1, 1, "", uint64(DefaultLimits.MaxMessage)+1), StatusTooLarge},
		{"file over limit", rawHeader(1, 4, "f", uint64(DefaultLimits.MaxFile)+1), StatusTooLarge},
		{"max uint64", rawHeader(1, 4, "f", ^uint64(0)), StatusTooLarge},
		{"truncated size", rawHeader(1, 1, "", 1)[:10], StatusMalformed},
		{"truncated name", rawHeader(1, 4, "abcdef", 1)[:8], StatusMalformed},
	}
	for _, c := range cases {
		_, err := DecodeHeader(bytes.NewReader(c.in), DefaultLimits)
		var fe *frameError
		require.ErrorAs(t, err, &fe, c.name)
		require.Equal(t, c.status, fe.status, "%s: %v", c.name, err)
	}
	// Read errors other than the end of the stream are not refusals.
	_, err := DecodeHeader(errorReader{}, DefaultLimits)
	var fe *frameError
	require.False(t, errors.As(err, &fe))
	require.ErrorIs(t, err, errBroken)
}

var errBroken = errors.New("broken")

type errorReader struct{}

func (errorReader) Read([]byte) (int, error) { return 0, errBroken }

func TestResponseRoundTrip(t *testing.T) {
	for _, r := range []Response{
		{Status: StatusStored, ID: "0123456789abcdef01234567"},
		{Status: StatusStored, ID: strings.Repeat("z", MaxIDLen)},
		{Status: StatusMalformed, Reason: "text is not valid UTF-8"},
		{Status: StatusBusy, Reason: ""},
		{Status: StatusFull, Reason: strings.Repeat("ü", MaxReasonLen/2)},
	} {
		got, err := DecodeResponse(bytes.NewReader(EncodeResponse(r)))
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	// Reasons are made printable and cut on a rune boundary.
	long := Response{Status: StatusMalformed, Reason: "bad\x1b[31m\xff" + strings.Repeat("é", 300)}
	got, err := DecodeResponse(bytes.NewReader(EncodeResponse(long)))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.Reason, "bad?[31m?é"), got.Reason)
	require.LessOrEqual(t, len(got.Reason), MaxReasonLen)

	for name, in := range map[string][]byte{
		"unknown status":  {6, 0, 0},
		"id too long":     append([]byte{0, 0, 65}, strings.Repeat("a", 65)...),
		"empty id":        {0, 0, 0},
		"id with space":   {0, 0, 3, 'a', ' ', 'b'},
		"reason too long": append([]byte{2, 1, 1}, strings.Repeat("a", 257)...),
		"control char":    {2, 0, 2, 'a', '\n'},
		"bad utf-8":       {2, 0, 1, 0xff},
		"truncated":       {2, 0, 5, 'a'},
	} {
		_, err := DecodeResponse(bytes.NewReader(in))
		require.Error(t, err, name)
	}
}

func TestRecordDecoding(t *testing.T) {
	sk, _, err := crypto.GenerateEd25519Key(nil)
	require.NoError(t, err)
	pid, err := peer.IDFromPrivateKey(sk)
	require.NoError(t, err)
	good := record{ID: "0123456789abcdef01234567", From: pid.String(), FromAddr: "3f2a.91c0.7d14", Kind: KindFile,
		Name: "a.txt", Size: 3, ReceivedAt: time.Unix(1, 0).UTC(), File: "0123456789abcdef01234567-a.txt"}
	b, err := json.Marshal(good)
	require.NoError(t, err)
	got, err := decodeRecord(b)
	require.NoError(t, err)
	require.Equal(t, good, got)

	for name, edit := range map[string]func(*record){
		"bad id":        func(r *record) { r.ID = "../x" },
		"negative size": func(r *record) { r.Size = -1 },
		"kind":          func(r *record) { r.Kind = "video" },
		"name":          func(r *record) { r.Name = "../a.txt"; r.File = r.ID + "-../a.txt" },
		"file path":     func(r *record) { r.File = "/etc/passwd" },
		"from":          func(r *record) { r.From = "nobody" },
		"from_addr":     func(r *record) { r.FromAddr = "zz" },
		"file on text":  func(r *record) { r.Kind = KindText; r.Name = "" },
	} {
		r := good
		edit(&r)
		b, err := json.Marshal(r)
		require.NoError(t, err)
		_, err = decodeRecord(b)
		require.Error(t, err, name)
	}
}

// FuzzDecodeHeader: the decoder never panics and never accepts a header
// out of bounds; what it accepts encodes back to the bytes it read.
func FuzzDecodeHeader(f *testing.F) {
	f.Add(rawHeader(1, 1, "", 5))
	f.Add(rawHeader(1, 4, "report.pdf", 1<<20))
	f.Add(rawHeader(1, 4, "../x", 1))
	f.Add(rawHeader(1, 2, "", ^uint64(0)))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		h, err := DecodeHeader(r, DefaultLimits)
		if err != nil {
			var fe *frameError
			if !errors.As(err, &fe) {
				t.Fatalf("a bytes.Reader can only end: %v", err)
			}
			return
		}
		if h.Size < 0 || h.Size > DefaultLimits.of(h.Kind) {
			t.Fatalf("size %d accepted for %s", h.Size, h.Kind)
		}
		if err := checkName(h.Kind, h.Name); err != nil {
			t.Fatalf("name %q accepted: %v", h.Name, err)
		}
		enc, err := EncodeHeader(h)
		if err != nil {
			t.Fatalf("accepted header does not encode: %v", err)
		}
		if read := len(data) - r.Len(); !bytes.Equal(enc, data[:read]) {
			t.Fatalf("re-encoded %x, read %x", enc, data[:read])
		}
	})
}

// FuzzDecodeResponse: the decoder never panics and never accepts a
// response out of bounds.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(EncodeResponse(Response{Status: StatusStored, ID: "0123456789abcdef01234567"}))
	f.Add(EncodeResponse(Response{Status: StatusMalformed, Reason: "text is not valid UTF-8"}))
	f.Add([]byte{9, 255, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		resp, err := DecodeResponse(bytes.NewReader(data))
		if err != nil {
			return
		}
		switch {
		case resp.Status > maxStatus:
			t.Fatalf("status %d", resp.Status)
		case resp.Status == StatusStored && (resp.ID == "" || len(resp.ID) > MaxIDLen || resp.Reason != ""):
			t.Fatalf("stored with id %q reason %q", resp.ID, resp.Reason)
		case resp.Status != StatusStored && (resp.ID != "" || len(resp.Reason) > MaxReasonLen ||
			!utf8.ValidString(resp.Reason) || strings.IndexFunc(resp.Reason, unicode.IsControl) >= 0):
			t.Fatalf("refusal with id %q reason %q", resp.ID, resp.Reason)
		}
		if got, err := DecodeResponse(bytes.NewReader(EncodeResponse(resp))); err != nil || got != resp {
			t.Fatalf("round trip: %v %+v", err, got)
		}
	})
}

// FuzzDecodeRecord: records read back from Badger never panic the decoder,
// and what it accepts is safe to use (no path outside FilesDir).
func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"id":"0123456789abcdef01234567","from":"12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq","kind":"file","name":"a","size":1,"received_at":"2026-01-01T00:00:00Z","file":"0123456789abcdef01234567-a"}`))
	f.Add([]byte(`{"id":"0123456789abcdef01234567","kind":"text","size":-1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		if err != nil {
			return
		}
		if !validID(r.ID) || r.Size < 0 || (r.File != "" && r.File != r.ID+"-"+r.Name) || checkName(r.Kind, r.Name) != nil {
			t.Fatalf("accepted %+v", r)
		}
	})
}
