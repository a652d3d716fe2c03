package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
)

func TestParseCard(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"minimal", `{"name":"a"}`, ""},
		{"full", `{"name":"Weather","url":"http://127.0.0.1:9999/a2a","skills":[{"id":"w"}],"x-vendor":{"k":1}}`, ""},
		{"not json", `name: a`, "not JSON"},
		{"array", `[{"name":"a"}]`, "must be a JSON object"},
		{"string", `"a"`, "must be a JSON object"},
		{"no name", `{"url":"http://x/"}`, `needs "name"`},
		{"empty name", `{"name":""}`, `needs "name"`},
		{"name not a string", `{"name":7}`, `needs "name"`},
		{"url not a string", `{"name":"a","url":1}`, `"url" must be a string`},
		{"trailing", `{"name":"a"} {}`, "data after"},
		{"truncated", `{"name":"a"`, "not JSON"},
		{"duplicate", `{"name":"a","name":"b"}`, "twice"},
		{"not utf-8", "{\"name\":\"\xff\"}", "not UTF-8"},
		{"too big", `{"name":"a","pad":"` + strings.Repeat("x", maxCardSize) + `"}`, "over the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCard([]byte(tc.in))
			if tc.err == "" && err != nil {
				t.Fatalf("parseCard: %v", err)
			}
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("parseCard = %v, want an error with %q", err, tc.err)
			}
		})
	}
}

func TestRewriteCard(t *testing.T) {
	c, err := parseCard([]byte(`{"name":"Weather","url":"http://127.0.0.1:9999/a2a/v1?x=1","skills":[{"id":"w"}],"zzz":true}`))
	if err != nil {
		t.Fatal(err)
	}
	u := rewriteCard(c, "3f2a.91c0.7d14", 8080, 80)
	if u != "pilot://3f2a.91c0.7d14:8080/a2a/v1?x=1" {
		t.Errorf("url = %q", u)
	}
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"Weather","url":"pilot://3f2a.91c0.7d14:8080/a2a/v1?x=1","skills":[{"id":"w"}],"zzz":true,` +
		`"pilot":{"address":"3f2a.91c0.7d14","port":8080,"card_port":80,"path":"/a2a/v1?x=1","original_url":"http://127.0.0.1:9999/a2a/v1?x=1"}}`
	if string(b) != want {
		t.Errorf("card =\n%s\nwant\n%s", b, want)
	}
	// A card without url gets one, at the root.
	c, _ = parseCard([]byte(`{"name":"n"}`))
	if u := rewriteCard(c, "3f2a.91c0.7d14", 1, 2); u != "pilot://3f2a.91c0.7d14:1/" {
		t.Errorf("url = %q", u)
	}
	// The rewritten card parses again.
	b, _ = c.MarshalJSON()
	if _, err := parseCard(b); err != nil {
		t.Errorf("rewritten card: %v", err)
	}
}

// FuzzParseCard: any bytes either fail cleanly or give a card that
// survives a rewrite and a round trip through MarshalJSON and parseCard.
func FuzzParseCard(f *testing.F) {
	f.Add([]byte(`{"name":"a","url":"http://h/p"}`))
	f.Add([]byte(`{"name":"a","url":"::%zz"}`))
	f.Add([]byte(`{"name":"a","nested":{"a":[1,2,{"b":null}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCard(b)
		if err != nil {
			return
		}
		rewriteCard(c, "3f2a.91c0.7d14", 8080, 80)
		out, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON out: %q", out)
		}
		if len(out) <= maxCardSize {
			if _, err := parseCard(out); err != nil {
				t.Fatalf("rewritten card does not parse: %v\n%s", err, out)
			}
		}
	})
}

func TestCardHandler(t *testing.T) {
	srv := httptest.NewServer(cardHandler([]byte(`{"name":"a"}`)))
	defer srv.Close()
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, a2aCardPath, 200},
		{http.MethodGet, a2aLegacyCardPath, 200},
		{http.MethodHead, a2aCardPath, 200},
		{http.MethodPost, a2aCardPath, 405},
		{http.MethodGet, "/", 404},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
}

// TestA2AUsageErrors: bad command lines fail with invalid_argument before
// any daemon is contacted.
func TestA2AUsageErrors(t *testing.T) {
	home := shortHome(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "card.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"name":"a"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"url":"http://x/"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"a2a", "serve", "--to", "127.0.0.1:1"},
		{"a2a", "serve", "--card", good},
		{"a2a", "serve", "--card", good, "--to", "nowhere"},
		{"a2a", "serve", "--card", bad, "--to", "127.0.0.1:1"},
		{"a2a", "serve", "--card", filepath.Join(dir, "absent.json"), "--to", "127.0.0.1:1"},
		{"a2a", "serve", "--card", good, "--to", "127.0.0.1:1", "--port", "0"},
		{"a2a", "serve", "--card", good, "--to", "127.0.0.1:1", "--port", "70000"},
		{"a2a", "serve", "--card", good, "--to", "127.0.0.1:1", "--port", "8080"},
		{"a2a", "get"},
		{"a2a", "get", "not.an.address"},
		{"a2a", "get", "3f2a.91c0.7d14", "--port", "0"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wantError(t, cli(t, home, append(args, "--json")...), localapi.CodeInvalidArgument, exitUsage)
		})
	}
	// Valid arguments reach for the daemon, which is not running.
	wantError(t, cli(t, home, "a2a", "serve", "--card", good, "--to", "127.0.0.1:1", "--json"), localapi.CodeNotRunning, exitNotRunning)
	wantError(t, cli(t, home, "a2a", "get", "3f2a.91c0.7d14", "--json"), localapi.CodeNotRunning, exitNotRunning)
}
