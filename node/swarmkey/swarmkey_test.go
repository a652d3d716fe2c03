package swarmkey_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pilot-agents/pilot/node/swarmkey"
)

// handHex is the key of the hand-written files below.
const handHex = "34dc3e7192543e5f3f2e46a18a0113b5bb81fd51617cae7c7e589177c1026153"

// Hand-written key files in the layout documented for IPFS private networks
// and go-libp2p's pnet package (V1 PSK): the header line
// "/key/swarm/psk/1.0.0/", an encoding line, then the key in that encoding.
const (
	handBase16 = "/key/swarm/psk/1.0.0/\n/base16/\n" + handHex + "\n"
	handBase64 = "/key/swarm/psk/1.0.0/\n/base64/\nNNw+cZJUPl8/LkahigETtbuB/VFhfK58fliRd8ECYVM=\n"
	handBin    = "/key/swarm/psk/1.0.0/\n/bin/\n" +
		"\x34\xdc\x3e\x71\x92\x54\x3e\x5f\x3f\x2e\x46\xa1\x8a\x01\x13\xb5" +
		"\xbb\x81\xfd\x51\x61\x7c\xae\x7c\x7e\x58\x91\x77\xc1\x02\x61\x53"
)

// handFiles are the hand-written files, plus variants Parse must accept.
var handFiles = map[string]string{
	"base16":          handBase16,
	"base16 upper":    "/key/swarm/psk/1.0.0/\n/base16/\n" + strings.ToUpper(handHex) + "\n",
	"base16 CRLF":     strings.ReplaceAll(handBase16, "\n", "\r\n"),
	"base16 no EOL":   strings.TrimSuffix(handBase16, "\n"),
	"base16 trailing": handBase16 + "  \n\t\n\n",
	"base64":          handBase64,
	"base64 CRLF":     strings.ReplaceAll(handBase64, "\n", "\r\n"),
	"bin":             handBin,
	"bin trailing":    handBin + "\n",
}

func handKey(t testing.TB) swarmkey.Key {
	t.Helper()
	var k swarmkey.Key
	n, err := hex.Decode(k[:], []byte(handHex))
	require.NoError(t, err)
	require.Equal(t, swarmkey.Size, n)
	return k
}

func generate(t testing.TB) swarmkey.Key {
	t.Helper()
	k, err := swarmkey.Generate()
	require.NoError(t, err)
	return k
}

func TestRoundTrip(t *testing.T) {
	k := generate(t)
	require.NotEqual(t, swarmkey.Key{}, k)
	require.NotEqual(t, k, generate(t))

	enc := k.Encode()
	want := "/key/swarm/psk/1.0.0/\n/base16/\n" + hex.EncodeToString(k[:]) + "\n"
	require.Equal(t, want, string(enc))

	got, err := swarmkey.Parse(enc)
	require.NoError(t, err)
	require.Equal(t, k, got)

	b := k.Bytes()
	require.Equal(t, k[:], b)
	b[0] ^= 1 // a copy
	require.Equal(t, got, k)
}

func TestWriteLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swarm.key")
	k := generate(t)
	require.NoError(t, swarmkey.Write(path, k))

	got, err := swarmkey.Load(path)
	require.NoError(t, err)
	require.Equal(t, k, got)

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, k.Encode(), data)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	if runtime.GOOS != "windows" {
		require.Equal(t, fs.FileMode(0o600), fi.Mode().Perm())
	}

	// Refuses to overwrite; the file is unchanged.
	err = swarmkey.Write(path, generate(t))
	require.ErrorIs(t, err, os.ErrExist)
	require.Contains(t, err.Error(), path)
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, data, again)

	// Refuses the zero key.
	err = swarmkey.Write(filepath.Join(dir, "zero.key"), swarmkey.Key{})
	require.ErrorIs(t, err, swarmkey.ErrInvalid)

	// No temporary files left behind.
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestHandWritten(t *testing.T) {
	want := handKey(t)
	for name, file := range handFiles {
		t.Run(name, func(t *testing.T) {
			got, err := swarmkey.Parse([]byte(file))
			require.NoError(t, err)
			require.Equal(t, want, got)

			// go-libp2p's own decoder agrees.
			psk, err := pnet.DecodeV1PSK(strings.NewReader(file))
			require.NoError(t, err)
			require.Equal(t, want.Bytes(), []byte(psk))

			path := filepath.Join(t.TempDir(), "swarm.key")
			require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
			got, err = swarmkey.Load(path)
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}

func TestLibp2pDecodesEncode(t *testing.T) {
	keys := []swarmkey.Key{handKey(t), generate(t), generate(t), {}}
	for i := range keys[3] {
		keys[3][i] = 0xff
	}
	for _, k := range keys {
		psk, err := pnet.DecodeV1PSK(bytes.NewReader(k.Encode()))
		require.NoError(t, err)
		require.Equal(t, k.Bytes(), []byte(psk))
	}
}

func TestParseInvalid(t *testing.T) {
	const hdr = "/key/swarm/psk/1.0.0/\n"
	k := handKey(t)
	bin := string(k[:])
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "input is empty"},
		{"only whitespace", " \n\r\n", "input is empty"},
		{"wrong header", "/key/swarm/psk/2.0.0/\n/base16/\n" + handHex + "\n",
			`line 1 is "/key/swarm/psk/2.0.0/", want "/key/swarm/psk/1.0.0/"`},
		{"header missing", "/base16/\n" + handHex + "\n", `line 1 is "/base16/", want "/key/swarm/psk/1.0.0/"`},
		{"bare key", handHex + "\n", `line 1 is not "/key/swarm/psk/1.0.0/" (it is 64 bytes, not shown`},
		{"header with trailing junk", "/key/swarm/psk/1.0.0/x\n/base16/\n" + handHex + "\n",
			`line 1 has unexpected text after "/key/swarm/psk/1.0.0/"`},
		{"header with trailing space", "/key/swarm/psk/1.0.0/ \n/base16/\n" + handHex + "\n",
			`line 1 has unexpected text after "/key/swarm/psk/1.0.0/"`},
		{"key on the header line", "/key/swarm/psk/1.0.0/ " + handHex + "\n/base16/\n",
			`line 1 has unexpected text after "/key/swarm/psk/1.0.0/"`},
		{"CR line endings", strings.ReplaceAll(handBase16, "\n", "\r"), `line 1 has unexpected text after`},
		{"header only", "/key/swarm/psk/1.0.0/", "input ends after line 1"},
		{"encoding line missing", hdr + handHex + "\n", `line 2 is not "/base16/", "/base64/" or "/bin/" (it is 64 bytes`},
		{"unknown encoding", hdr + "/base32/\nGTOD4...\n", `line 2 is "/base32/", want "/base16/", "/base64/" or "/bin/"`},
		{"encoding with junk", hdr + "/base16/ " + handHex + "\n", `line 2 has unexpected text after "/base16/"`},
		{"key missing", hdr + "/base16/\n", "the key is missing"},
		{"key missing, no EOL", hdr + "/base16/", "the key is missing"},
		{"blank line before key", hdr + "/base16/\n\n" + handHex + "\n", "line 3 must start with the key"},
		{"63 hex digits", hdr + "/base16/\n" + handHex[:63] + "\n", "key is 63 hex digits, want 64 (truncated?)"},
		{"62 hex digits", hdr + "/base16/\n" + handHex[:62] + "\n", "key is 62 hex digits, want 64 (truncated?)"},
		{"66 hex digits", hdr + "/base16/\n" + handHex + "ab\n", "key is 66 hex digits, want 64 (too long)"},
		{"non-hex char", hdr + "/base16/\n" + handHex[:10] + "g" + handHex[11:] + "\n",
			"line 3: character 11 of the key is not a hex digit"},
		{"base64 under base16", hdr + "/base16/\n" + base64.StdEncoding.EncodeToString(k[:]) + "\n", "not a hex digit"},
		{"base64 of 31 bytes", hdr + "/base64/\n" + base64.StdEncoding.EncodeToString(k[:31]) + "\n",
			"key is 31 bytes, want 32 (truncated?)"},
		{"base64 of 33 bytes", hdr + "/base64/\n" + base64.StdEncoding.EncodeToString(append(k[:], 1)) + "\n",
			"key is 33 bytes, want 32 (too long)"},
		{"base64 unpadded", hdr + "/base64/\n" + base64.RawStdEncoding.EncodeToString(k[:]) + "\n", "not valid padded base64"},
		{"base64 hex", hdr + "/base64/\n" + handHex + "\n", "key is 48 bytes, want 32"},
		{"base64 bad char", hdr + "/base64/\n" + "*" + base64.StdEncoding.EncodeToString(k[:])[1:] + "\n",
			"not valid padded base64 (error at character 1)"},
		{"bin with 31 bytes", hdr + "/bin/\n" + bin[:31], "key is 31 bytes, want 32 (truncated?)"},
		{"bin missing", hdr + "/bin/\n", "the key is missing"},
		{"bin with extra", hdr + "/bin/\n" + bin + "\nx", "unexpected text after the key"},
		{"extra line after the key", handBase16 + "hello\n", "unexpected text after the key, on line 4"},
		{"extra line after blank lines", handBase16 + "\n\n" + handHex + "\n", "unexpected text after the key, on line 6"},
		{"text after the key on its line", hdr + "/base16/\n" + handHex + " # comment\n", "unexpected text after the key, on line 3"},
		{"oversize", handBase16 + strings.Repeat(" ", 1024), "input is 1120 bytes, more than the 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := swarmkey.Parse([]byte(tc.in))
			require.ErrorIs(t, err, swarmkey.ErrInvalid)
			require.Equal(t, swarmkey.Key{}, got)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "swarmkey: "), msg)
			assert.Contains(t, msg, tc.want)
			assertNoLeak(t, k, msg)
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
		return path
	}
	zero := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name, path, want string
	}{
		{"all-zero key", write("zero.key", "/key/swarm/psk/1.0.0/\n/base16/\n"+zero+"\n"), "key is all zeros"},
		{"bad content", write("bad.key", "/key/swarm/psk/1.0.0/\n/base32/\n"), `line 2 is "/base32/"`},
		{"empty", write("empty.key", ""), "input is empty"},
		{"oversize", write("big.key", handBase16+strings.Repeat("\n", 2000)), "file is 2096 bytes, more than the 1024"},
		{"directory", dir, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := swarmkey.Load(tc.path)
			require.ErrorIs(t, err, swarmkey.ErrInvalid)
			assert.Contains(t, err.Error(), "swarmkey: "+tc.path+": ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	_, err := swarmkey.Load(filepath.Join(dir, "missing.key"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	require.NotErrorIs(t, err, swarmkey.ErrInvalid)
	assert.Contains(t, err.Error(), "missing.key")
}

func TestID(t *testing.T) {
	// The test vector of the package doc.
	var seq swarmkey.Key
	for i := range seq {
		seq[i] = byte(i)
	}
	require.Equal(t, "667e40e545ae", seq.ID())
	require.Equal(t, "579e8e860588", handKey(t).ID())
	require.Equal(t, "/pilot/swarm/667e40e545ae", seq.ProtocolPrefix())
	require.Equal(t, "swarm-667e40e545ae", seq.Namespace())
	require.Equal(t, "swarm 667e40e545ae", seq.String())

	// Stable, 12 lowercase hex digits, and different for different keys
	// (including keys one bit apart).
	format := regexp.MustCompile(`^[0-9a-f]{12}$`)
	seen := map[string]swarmkey.Key{}
	add := func(k swarmkey.Key) {
		id := k.ID()
		require.Regexp(t, format, id)
		require.Equal(t, id, k.ID())
		if other, dup := seen[id]; dup {
			t.Fatalf("keys %x and %x share ID %s", other[:], k[:], id)
		}
		seen[id] = k
	}
	add(swarmkey.Key{})
	for i := 0; i < swarmkey.Size*8; i++ {
		k := seq
		k[i/8] ^= 1 << (i % 8)
		add(k)
	}
	for range 200 {
		add(generate(t))
	}
}

// TestFormatNoLeak prints keys every way fmt allows and checks that the
// output never holds the key, only its String.
func TestFormatNoLeak(t *testing.T) {
	for _, k := range []swarmkey.Key{handKey(t), generate(t)} {
		s := k.String()
		for _, verb := range []string{"%v", "%+v", "%#v", "%x", "%X", "% x", "%#x", "%s", "%q", "%d", "%o", "%b", "%c", "%U", "%08x", "%-80v", "%.3s"} {
			got := fmt.Sprintf(verb, k)
			assert.Equal(t, s, got, verb)
			assertNoLeak(t, k, got)
			got = fmt.Sprintf(verb, &k)
			assert.Equal(t, s, got, verb+" of *Key")
		}
		for _, got := range []string{
			fmt.Sprint(k), fmt.Sprintln(k), k.GoString(),
			fmt.Sprintf("%v / %+v / %#v / %x / %s", k, k, k, k, k),
			fmt.Sprintf("%v %+v %#v %x", []swarmkey.Key{k}, map[string]swarmkey.Key{"k": k}, struct{ K swarmkey.Key }{k}, [1]swarmkey.Key{k}),
		} {
			assert.Contains(t, got, s)
			assertNoLeak(t, k, got)
		}
	}
}

// assertNoLeak fails if out holds 8 or more consecutive characters of the
// key's hex (either case) or base64 form, its raw bytes, or its decimal
// array form.
func assertNoLeak(t *testing.T, k swarmkey.Key, out string) {
	t.Helper()
	forms := []string{hex.EncodeToString(k[:]), strings.ToUpper(hex.EncodeToString(k[:])), base64.StdEncoding.EncodeToString(k[:])}
	for _, form := range forms {
		for i := 0; i+8 <= len(form); i++ {
			if strings.Contains(out, form[i:i+8]) {
				t.Errorf("output %q holds %q of the key", out, form[i:i+8])
				return
			}
		}
	}
	if strings.Contains(out, string(k[:8])) || strings.Contains(out, strings.Trim(fmt.Sprint(k[:4]), "[]")) {
		t.Errorf("output %q holds key bytes", out)
	}
}

func TestErrInvalidIsSentinel(t *testing.T) {
	_, err := swarmkey.Parse(nil)
	require.True(t, errors.Is(err, swarmkey.ErrInvalid))
	require.NotEqual(t, swarmkey.ErrInvalid.Error(), err.Error())
}
