package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// upper is a remote side that reads until EOF, then answers in upper case.
func upper(c net.Conn) {
	b, _ := io.ReadAll(c)
	_, _ = c.Write(bytes.ToUpper(b))
}

// pipeLines splits --json pipe output into the chunk lines and the final
// summary line.
func pipeLines(t *testing.T, stdout string) ([]pipeChunk, pipeDone) {
	t.Helper()
	lines := strings.SplitAfter(stdout, "\n")
	if len(lines) < 2 || lines[len(lines)-1] != "" {
		t.Fatalf("stdout is not complete lines ending in the summary: %q", stdout)
	}
	lines = lines[:len(lines)-1]
	var chunks []pipeChunk
	for _, l := range lines[:len(lines)-1] {
		var c pipeChunk
		decodeStrict(t, l, &c)
		chunks = append(chunks, c)
	}
	var done pipeDone
	decodeStrict(t, lines[len(lines)-1], &done)
	if !done.Done {
		t.Errorf("last line is not the summary: %q", lines[len(lines)-1])
	}
	return chunks, done
}

// decodeStrict decodes one ok-envelope line whose data has exactly v's
// fields.
func decodeStrict(t *testing.T, line string, v any) {
	t.Helper()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(line), &env); err != nil || env.Status != "ok" {
		t.Fatalf("not an ok-envelope: %q (%v)", line, err)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("data %s is not a %T: %v", env.Data, v, err)
	}
}

func TestConnect(t *testing.T) {
	f := &fakeBackend{remote: upper}
	home := startFake(t, f)

	r := cliIn(t, home, strings.NewReader("hello pilot"), "connect", "0A0B0C0D0E0F:1000")
	if r.code != 0 || r.stderr != "" || r.stdout != "HELLO PILOT" {
		t.Errorf("text: exit %d stdout %q stderr %q, want the remote's answer", r.code, r.stdout, r.stderr)
	}
	if got := f.lastReq(t); got != (dialReq{otherAddr, 1000}) {
		t.Errorf("daemon dialed %+v", got)
	}

	r = cliIn(t, home, strings.NewReader("héllo"), "connect", "Weather:7", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("json: exit %d stderr %q", r.code, r.stderr)
	}
	chunks, done := pipeLines(t, r.stdout)
	var text strings.Builder
	n := 0
	for _, c := range chunks {
		text.WriteString(c.Data)
		n += c.Bytes
	}
	if text.String() != "HÉLLO" || n != 6 || done != (pipeDone{true, 6, 6}) {
		t.Errorf("json: chunks %+v summary %+v, want HÉLLO and 6 bytes each way", chunks, done)
	}
	if got := f.lastReq(t); got != (dialReq{"weather", 7}) {
		t.Errorf("daemon dialed %+v, want the lower-cased hostname", got)
	}
}

func TestListen(t *testing.T) {
	got := make(chan []byte, 1)
	f := &fakeBackend{remote: func(c net.Conn) {
		_, _ = c.Write([]byte{0xff, 0x00, 0x01})
		_ = c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		got <- b
	}}
	home := startFake(t, f)

	r := cliIn(t, home, strings.NewReader("from stdin"), "listen", "4000", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	chunks, done := pipeLines(t, r.stdout)
	if len(chunks) != 1 || chunks[0] != (pipeChunk{"base64:/wAB", 3}) || done.BytesIn != 3 {
		t.Errorf("chunks %+v summary %+v, want one base64 chunk of 3 bytes", chunks, done)
	}
	if got := f.lastReq(t); got != (acceptReq{4000}) {
		t.Errorf("daemon listened with %+v", got)
	}
	select {
	case b := <-got:
		// The remote side closed first; what stdin sent before is what it read.
		if !strings.HasPrefix("from stdin", string(b)) || int64(len(b)) > done.BytesOut {
			t.Errorf("remote read %q, summary says %d bytes out", b, done.BytesOut)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the remote side never saw the end of the stream")
	}
}

// TestListenRemoteCloses: when the remote side closes, the command ends
// even though stdin is still open, and stops the goroutine reading stdin.
func TestListenRemoteCloses(t *testing.T) {
	f := &fakeBackend{remote: func(c net.Conn) { _, _ = c.Write([]byte("bye\n")) }}
	home := startFake(t, f)
	stdin, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); stdin.Close() })

	r := cliIn(t, home, stdin, "listen", "1000")
	if r.code != 0 || r.stdout != "bye\n" || r.stderr != "" {
		t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// The stdin reader was stopped by a read deadline, and waited for.
	if _, err := stdin.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("stdin read after the command: %v, want the deadline it set", err)
	}
}

// TestPipeInterrupt: cancelling the context (what SIGINT does) ends a pipe
// with exit 0, both while it waits for a stream and while it streams.
func TestPipeInterrupt(t *testing.T) {
	t.Run("waiting", func(t *testing.T) {
		f := &fakeBackend{acceptBlock: true, called: make(chan string, 10)}
		home := startFake(t, f)
		_, cancel, done := runAsync(t, home, "listen", "4000", "--json")
		select {
		case <-f.called:
		case r := <-done:
			t.Fatalf("listen ended before the daemon was asked: %+v", r)
		}
		cancel()
		r := waitDone(t, done)
		if r.code != 0 || r.stderr != "" || r.stdout != `{"status":"ok","data":{"done":true,"bytes_in":0,"bytes_out":0}}`+"\n" {
			t.Errorf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("streaming", func(t *testing.T) {
		f := &fakeBackend{remote: func(c net.Conn) {
			_, _ = c.Write([]byte("x"))
			_, _ = io.Copy(io.Discard, c) // until the CLI goes away
		}}
		home := startFake(t, f)
		stdin, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close(); stdin.Close() })
		ctxOut, cancel, done := runAsyncIn(t, home, stdin, "connect", otherAddr+":1000", "--json")
		waitOutput(t, ctxOut, 1, done)
		cancel()
		r := waitDone(t, done)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("exit %d stderr %q", r.code, r.stderr)
		}
		chunks, sum := pipeLines(t, r.stdout)
		if len(chunks) != 1 || chunks[0].Data != "x" || sum != (pipeDone{true, 1, 0}) {
			t.Errorf("chunks %+v summary %+v", chunks, sum)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		home := startFake(t, &fakeBackend{acceptBlock: true})
		env := wantError(t, cli(t, home, "listen", "4000", "--timeout", "100ms", "--json"), localapi.CodeTimeout, exitFailure)
		if *env.Message != "no stream arrived on port 4000 within 100ms" {
			t.Errorf("message %q", *env.Message)
		}
	})
}

// TestPipeDaemonError: a refusal from the daemon is an ordinary error
// envelope, and nothing is printed on stdout.
func TestPipeDaemonError(t *testing.T) {
	home := startFake(t, &fakeBackend{dialErr: localapi.Errorf(localapi.CodeTrustRequired, "ask for trust with `pilot trust request`", "port 1000 of 0a0b.0c0d.0e0f is private")})
	env := wantError(t, cli(t, home, "connect", otherAddr+":1000", "--json"), localapi.CodeTrustRequired, exitFailure)
	if *env.Message != "port 1000 of 0a0b.0c0d.0e0f is private" {
		t.Errorf("message %q", *env.Message)
	}
}

func TestEmitChunksUTF8(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out, jsonFlag: true}
	held, err := a.emitChunks(nil, []byte("h\xc3"))
	if err != nil || string(held) != "\xc3" {
		t.Fatalf("held %q, %v", held, err)
	}
	held, err = a.emitChunks(held, []byte("\xa9!\xe2\x82"))
	if err != nil || string(held) != "\xe2\x82" {
		t.Fatalf("held %q, %v", held, err)
	}
	if held, _ = a.emitChunks(held, []byte("\xac")); held != nil {
		t.Fatalf("held %q after a complete rune", held)
	}
	if held, _ = a.emitChunks(nil, []byte("\xff\xc3")); held != nil { // not text anyway: nothing held
		t.Fatalf("held %q of binary data", held)
	}
	want := `{"status":"ok","data":{"data":"h","bytes":1}}` + "\n" +
		`{"status":"ok","data":{"data":"é!","bytes":3}}` + "\n" +
		`{"status":"ok","data":{"data":"€","bytes":3}}` + "\n" +
		`{"status":"ok","data":{"data":"base64:/8M=","bytes":2}}` + "\n"
	if out.String() != want {
		t.Errorf("chunks:\n%s\nwant:\n%s", out.String(), want)
	}
	if c := chunkOf([]byte("base64:abc")); c.Data != "base64:YmFzZTY0OmFiYw==" {
		t.Errorf("text that looks encoded is not encoded: %+v", c)
	}
	for in, want := range map[string]int{"": 0, "a": 0, "é": 0, "\xc3": 1, "a\xe2\x82": 2, "\xf0\x9f\x98": 3, "\xf0\x9f\x98\x80": 0, "\x80": 0} {
		if got := incompleteSuffix([]byte(in)); got != want {
			t.Errorf("incompleteSuffix(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestConnectAfterRemoteHalfClose: a listener with no input half-closes at
// once; piped stdin must still be delivered in full (as with nc), not
// dropped because the remote finished first.
func TestConnectAfterRemoteHalfClose(t *testing.T) {
	got := make(chan string, 1)
	f := &fakeBackend{remote: func(c net.Conn) {
		_ = c.(interface{ CloseWrite() error }).CloseWrite()
		b, _ := io.ReadAll(c)
		got <- string(b)
	}}
	home := startFake(t, f)
	r := cliIn(t, home, strings.NewReader("delivered anyway\n"), "connect", someAddr+":1000")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	select {
	case s := <-got:
		if s != "delivered anyway\n" {
			t.Errorf("remote read %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the remote never saw the end of the input")
	}
}
