package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	ignore := goleak.IgnoreCurrent() // goroutines of package initialisers
	code := m.Run()
	removeBinary()
	if code == 0 {
		if err := goleak.Find(ignore); err != nil {
			fmt.Fprintf(os.Stderr, "leaked goroutines: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// result is the outcome of one in-process CLI run.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the CLI in-process with --home home in front of args and an
// empty stdin.
func cli(t *testing.T, home string, args ...string) result {
	t.Helper()
	return cliIn(t, home, strings.NewReader(""), args...)
}

// cliIn is cli with stdin.
func cliIn(t *testing.T, home string, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := runIO(t.Context(), append([]string{"--home", home}, args...), stdin, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// shortHome returns a fresh home folder with a short path: a Unix socket
// path must stay under ~104 bytes, and subtest names make t.TempDir long.
func shortHome(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pilot")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// errorEnvelope is the --json failure shape; every field must be present.
type errorEnvelope struct {
	Status  *string `json:"status"`
	Code    *string `json:"code"`
	Message *string `json:"message"`
	Hint    *string `json:"hint"`
}

// wantError checks that r is a --json failure with code and exit code: one
// complete envelope line on stderr, nothing on stdout. It returns the
// envelope.
func wantError(t *testing.T, r result, code string, exit int) errorEnvelope {
	t.Helper()
	if r.code != exit {
		t.Errorf("exit code %d, want %d", r.code, exit)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty on failure: %q", r.stdout)
	}
	var env errorEnvelope
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("stderr is not exactly one line: %q", r.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(r.stderr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("stderr is not an error envelope: %v: %q", err, r.stderr)
	}
	if env.Status == nil || env.Code == nil || env.Message == nil || env.Hint == nil {
		t.Fatalf("error envelope lacks a field: %q", r.stderr)
	}
	if *env.Status != "error" || *env.Code != code {
		t.Errorf("status %q code %q, want error %q: %s", *env.Status, *env.Code, code, r.stderr)
	}
	if *env.Message == "" || *env.Hint == "" {
		t.Errorf("empty message or hint: %s", r.stderr)
	}
	return env
}

// wantOK checks that r is a --json success and decodes its data into v:
// one envelope line on stdout, nothing on stderr, exit 0.
func wantOK(t *testing.T, r result, v any) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0; stderr: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty on success: %q", r.stderr)
	}
	decodeOK(t, r.stdout, v)
}

// decodeOK decodes one ok-envelope line into v.
func decodeOK(t *testing.T, stdout string, v any) {
	t.Helper()
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Fatalf("stdout is not exactly one line: %q", stdout)
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(stdout), &env); err != nil {
		t.Fatalf("stdout is not an envelope: %v: %q", err, stdout)
	}
	if env.Status != "ok" || len(env.Data) == 0 {
		t.Fatalf("not an ok-envelope with data: %q", stdout)
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		t.Fatalf("data does not decode into %T: %v: %s", v, err, env.Data)
	}
}
