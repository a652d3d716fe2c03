package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node/localapi"
)

func strPtr(s string) *string { return &s }

// TestSessionJSON runs every request/response session command with --json
// against the fake: the request the daemon got, and the data printed.
func TestSessionJSON(t *testing.T) {
	f := &fakeBackend{}
	home := startFake(t, f)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(file, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(dir, "blob.bin")
	if err := os.WriteFile(blob, []byte{0, 1, 0xfe, 0xff}, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		args    []string
		wantReq any // what the daemon got; nil: nothing checked
		got     any // pointer the data decodes into
		want    any // expected data
	}{
		{[]string{"echo", "0A0B0C0D0E0F", "hi there"}, localapi.EchoRequest{Address: otherAddr, Text: "hi there"},
			&localapi.EchoResult{}, localapi.EchoResult{Address: otherAddr, PeerID: "12D3KooWOther", Text: "hi there", RTTMs: 1.25}},
		{[]string{"echo", "Weather", "hi"}, localapi.EchoRequest{Address: "weather", Text: "hi"},
			&localapi.EchoResult{}, localapi.EchoResult{Address: otherAddr, PeerID: "12D3KooWOther", Text: "hi", RTTMs: 1.25}},
		{[]string{"send", otherAddr, "hello"}, localapi.SendRequest{Address: otherAddr, Kind: "text", Text: "hello"},
			&localapi.SendResult{}, localapi.SendResult{Address: otherAddr, PeerID: "12D3KooWOther", ID: "0123456789abcdef01234567", Kind: "text", Size: 5}},
		{[]string{"send", "weather", `{"a": [1, 2]}`, "--json-body"}, localapi.SendRequest{Address: "weather", Kind: "json", JSON: json.RawMessage(`{"a":[1,2]}`)},
			&localapi.SendResult{}, localapi.SendResult{Address: otherAddr, PeerID: "12D3KooWOther", ID: "0123456789abcdef01234567", Kind: "json", Size: 11}},
		{[]string{"send", otherAddr, "--file", file}, localapi.SendRequest{Address: otherAddr, Kind: "file", Path: file},
			&localapi.SendResult{}, localapi.SendResult{Address: otherAddr, PeerID: "12D3KooWOther", ID: "0123456789abcdef01234567", Kind: "file", Size: 4}},
		{[]string{"send", otherAddr, "--binary", blob}, localapi.SendRequest{Address: otherAddr, Kind: "binary", Binary: []byte{0, 1, 0xfe, 0xff}},
			&localapi.SendResult{}, localapi.SendResult{Address: otherAddr, PeerID: "12D3KooWOther", ID: "0123456789abcdef01234567", Kind: "binary", Size: 4}},
		{[]string{"inbox"}, nil, &localapi.InboxList{}, fakeInbox},
		{[]string{"inbox", "get", "m1"}, "m1", &localapi.InboxMessage{}, withText(fakeInbox.Messages[0], "hello")},
		{[]string{"inbox", "get", "m2"}, "m2", &localapi.InboxMessage{}, withBody(fakeInbox.Messages[1], []byte{0xff, 0, 1})},
		{[]string{"inbox", "rm", "m2"}, "m2", &localapi.Deleted{}, localapi.Deleted{ID: "m2", Deleted: true}},
		{[]string{"publish", "jobs.new", "rain at 15:00"}, localapi.PublishRequest{Topic: "jobs.new", Data: "rain at 15:00"},
			&localapi.Published{}, localapi.Published{Topic: "jobs.new", Size: 13, Peers: 2}},
		{[]string{"trust", "request", otherAddr, "--message", "weather agent"}, localapi.TrustRequest{Action: "request", Address: otherAddr, Message: "weather agent"},
			&localapi.TrustRecord{}, localapi.TrustRecord{Address: otherAddr, PeerID: "12D3KooWOther", State: "outgoing_pending", Direction: "outgoing", Message: "weather agent", Updated: "2025-01-02T03:04:05Z"}},
		{[]string{"trust", "approve", "weather"}, localapi.TrustRequest{Action: "approve", Address: "weather"},
			&localapi.TrustRecord{}, localapi.TrustRecord{Address: otherAddr, PeerID: "12D3KooWOther", State: "trusted", Direction: "outgoing", Updated: "2025-01-02T03:04:05Z"}},
		{[]string{"trust", "reject", otherAddr}, localapi.TrustRequest{Action: "reject", Address: otherAddr}, &localapi.TrustRecord{}, nil},
		{[]string{"trust", "revoke", otherAddr}, localapi.TrustRequest{Action: "revoke", Address: otherAddr}, &localapi.TrustRecord{}, nil},
		{[]string{"trust", "list"}, false, &localapi.TrustList{}, fakeTrust},
		{[]string{"trust", "pending"}, true, &localapi.TrustList{}, localapi.TrustList{Count: 1, Records: fakeTrust.Records[1:]}},
		{[]string{"port", "public", "8080"}, localapi.PortPolicyRequest{Port: 8080, Public: true},
			&localapi.PortInfo{}, localapi.PortInfo{Port: 8080, Public: true, Listening: true}},
		{[]string{"port", "private", "65535"}, localapi.PortPolicyRequest{Port: 65535, Public: false},
			&localapi.PortInfo{}, localapi.PortInfo{Port: 65535, Listening: true}},
		{[]string{"ports"}, nil, &localapi.PortList{}, fakePorts},
		{[]string{"expose", "8080", "--to", "localhost:3000"}, localapi.ExposeRequest{Port: 8080, To: "localhost:3000"},
			&localapi.Tunnel{}, localapi.Tunnel{ID: "t1", Kind: "expose", Port: 8080, Local: "localhost:3000", Created: "2025-01-02T03:04:05Z"}},
		{[]string{"forward", "[::1]:0", "--to", "Weather:8080"}, localapi.ForwardRequest{Listen: "[::1]:0", To: "weather:8080"},
			&localapi.Tunnel{}, localapi.Tunnel{ID: "t2", Kind: "forward", Port: 8080, Local: "[::1]:0", Remote: "weather:8080", Created: "2025-01-02T03:04:05Z"}},
		{[]string{"forward", "127.0.0.1:9000", "--to", "0A0B0C0D0E0F:80"}, localapi.ForwardRequest{Listen: "127.0.0.1:9000", To: otherAddr + ":80"}, &localapi.Tunnel{}, nil},
		{[]string{"tunnels"}, nil, &localapi.TunnelList{}, fakeTunnels},
		{[]string{"tunnel", "close", "t1"}, "t1", &localapi.Tunnel{}, fakeTunnels.Tunnels[0]},
		{[]string{"set-hostname", "Weather-Bot"}, localapi.ProfileRequest{Hostname: strPtr("weather-bot")},
			&localapi.Profile{}, localapi.Profile{Address: fakeID.Address, Hostname: "weather-bot", Tags: []string{}, Ports: []uint16{7}, Version: "0.1.0"}},
		{[]string{"set-hostname", "--clear"}, localapi.ProfileRequest{Hostname: strPtr("")},
			&localapi.Profile{}, localapi.Profile{Address: fakeID.Address, Tags: []string{}, Ports: []uint16{7}, Version: "0.1.0"}},
		{[]string{"set-tags", "weather, Forecast"}, localapi.ProfileRequest{Tags: []string{"weather", "forecast"}, SetTags: true},
			&localapi.Profile{}, localapi.Profile{Address: fakeID.Address, Tags: []string{"weather", "forecast"}, Ports: []uint16{7}, Version: "0.1.0"}},
		{[]string{"set-tags", "--clear"}, localapi.ProfileRequest{SetTags: true}, &localapi.Profile{}, nil},
		{[]string{"find", "Weather"}, localapi.FindRequest{Name: "weather"},
			&localapi.FindResult{}, localapi.FindResult{Query: "weather", Count: 1, Claimants: []localapi.Claimant{fakeClaimant}}},
		{[]string{"find", "--tag", "Forecast"}, localapi.FindRequest{Tag: "forecast"},
			&localapi.FindResult{}, localapi.FindResult{Query: "tag:forecast", Count: 1, Claimants: []localapi.Claimant{fakeClaimant}}},
		{[]string{"find", "nobody"}, localapi.FindRequest{Name: "nobody"}, &localapi.FindResult{}, localapi.FindResult{Query: "nobody", Claimants: []localapi.Claimant{}}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			wantOK(t, cli(t, home, append(tc.args, "--json")...), tc.got)
			if tc.want != nil {
				if g := reflect.ValueOf(tc.got).Elem().Interface(); !reflect.DeepEqual(g, tc.want) {
					t.Errorf("data %+v, want %+v", g, tc.want)
				}
			}
			if tc.wantReq != nil {
				if got := f.lastReq(t); !reflect.DeepEqual(got, tc.wantReq) {
					t.Errorf("daemon got %#v, want %#v", got, tc.wantReq)
				}
			}
		})
	}
}

func withText(m localapi.InboxMessage, text string) localapi.InboxMessage { m.Text = text; return m }

func withBody(m localapi.InboxMessage, b []byte) localapi.InboxMessage { m.Body = b; return m }

// TestSessionText checks the text form of every request/response session
// command against the fake.
func TestSessionText(t *testing.T) {
	f := &fakeBackend{}
	home := startFake(t, f)
	for _, tc := range []struct {
		args []string
		want []string // fragments, in order
	}{
		{[]string{"echo", otherAddr, "hi"}, []string{"address: 0a0b.0c0d.0e0f\npeer_id: 12D3KooWOther\ntext:    hi\nrtt_ms:  1.250\n"}},
		{[]string{"send", otherAddr, "hello"}, []string{"id:      0123456789abcdef01234567\nkind:    text\nsize:    5\n"}},
		{[]string{"inbox"}, []string{
			"ID  FROM_ADDRESS    KIND    SIZE  NAME        RECEIVED\n",
			"m1  0a0b.0c0d.0e0f  text    5     -           2025-01-02T03:04:05Z\n",
			"m2  0a0b.0c0d.0e0f  binary  3     -           2025-01-02T03:04:06Z\n",
			"m3  0a0b.0c0d.0e0f  file    4     report.txt  2025-01-02T03:04:07Z\n"}},
		{[]string{"inbox", "get", "m1"}, []string{"id:           m1\nfrom:         12D3KooWOther\nfrom_address: 0a0b.0c0d.0e0f\nkind:         text\nsize:         5\nreceived_at:  2025-01-02T03:04:05Z\n\nhello\n"}},
		{[]string{"inbox", "get", "m2"}, []string{"kind:         binary\n", "\n(binary body of 3 bytes; use --json (base64 \"body\") or --out PATH to get it)\n"}},
		{[]string{"inbox", "rm", "m1"}, []string{"deleted m1\n"}},
		{[]string{"publish", "weather", "rain"}, []string{"published 4 bytes on weather to 2 peers\n"}},
		{[]string{"trust", "request", otherAddr, "--message", "hi"}, []string{"state:     outgoing_pending\ndirection: outgoing\nmessage:   hi\n"}},
		{[]string{"trust", "list"}, []string{
			"ADDRESS         PEER_ID        STATE             DIRECTION  UPDATED               MESSAGE\n",
			"0a0b.0c0d.0e0f  12D3KooWOther  trusted           -          2025-01-02T03:04:05Z  -\n",
			"1111.2222.3333  12D3KooWThird  incoming_pending  incoming   2025-01-02T03:04:06Z  \"let me in\"\n"}},
		{[]string{"trust", "pending"}, []string{"1111.2222.3333  12D3KooWThird  incoming_pending"}},
		{[]string{"port", "public", "8080"}, []string{"port:      8080\npublic:    yes\nlistening: yes\nservice:\n"}},
		{[]string{"ports"}, []string{"PORT  PUBLIC  LISTENING  SERVICE\n7     yes     yes        echo\n8080  no      yes        -\n"}},
		{[]string{"expose", "8080", "--to", "127.0.0.1:8080"}, []string{"id:        t1\nkind:      expose\nport:      8080\nlocal:     127.0.0.1:8080\n"}},
		{[]string{"forward", "127.0.0.1:9000", "--to", "weather:8080"}, []string{"kind:      forward\n", "remote:    weather:8080\n"}},
		{[]string{"tunnels"}, []string{"ID  KIND    PORT  LOCAL           REMOTE  ACTIVE  TOTAL  BYTES_IN  BYTES_OUT\nt1  expose  8080  127.0.0.1:8080  -       1       4      100       2000\n"}},
		{[]string{"tunnel", "close", "t1"}, []string{"id:        t1\n"}},
		{[]string{"set-hostname", "weather"}, []string{"address:  3f2a.91c0.7d14\nhostname: weather\ntags:     (none)\nports:    7\nversion:  0.1.0\n"}},
		{[]string{"set-tags", "a,b"}, []string{"hostname: (none)\ntags:     a\n          b\n"}},
		{[]string{"find", "weather"}, []string{"ADDRESS         HOSTNAME  PEER_ID        TRUSTED  PINNED  SCORE\n0a0b.0c0d.0e0f  weather   12D3KooWOther  yes      yes     0.500\n"}},
		{[]string{"find", "nobody"}, []string{"no agent found for nobody\n"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := cli(t, home, tc.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d stderr %q", r.code, r.stderr)
			}
			rest := r.stdout
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", w, r.stdout)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

// TestInboxOut checks inbox get --out for text, binary and a file saved on
// disk, and --out - in text mode.
func TestInboxOut(t *testing.T) {
	f := &fakeBackend{}
	home := startFake(t, f)
	dir := t.TempDir()
	received := filepath.Join(dir, "m3-report.txt")
	if err := os.WriteFile(received, []byte("file"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.filePath = received
	f.mu.Unlock()

	for id, want := range map[string]string{"m1": "hello", "m2": "\xff\x00\x01", "m3": "file"} {
		out := filepath.Join(dir, id+".out")
		var m localapi.InboxMessage
		wantOK(t, cli(t, home, "inbox", "get", id, "--out", out, "--json"), &m)
		if m.ID != id {
			t.Errorf("%s: data %+v", id, m)
		}
		got, err := os.ReadFile(out)
		if err != nil || string(got) != want {
			t.Errorf("%s: --out file holds %q (%v), want %q", id, got, err, want)
		}
		if st, err := os.Stat(out); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: --out file mode %v, want 0600", id, st.Mode().Perm())
		}
	}

	r := cli(t, home, "inbox", "get", "m3", "--out", filepath.Join(dir, "copy"))
	if r.code != 0 || !strings.Contains(r.stdout, "path:         "+received+"\n\nbody written to "+filepath.Join(dir, "copy")+" (4 bytes)\n") {
		t.Errorf("text --out: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = cli(t, home, "inbox", "get", "m3")
	if r.code != 0 || !strings.Contains(r.stdout, "\n(file of 4 bytes saved at "+received+"; --out PATH copies it)\n") {
		t.Errorf("text file message: exit %d stdout %q", r.code, r.stdout)
	}
	r = cli(t, home, "inbox", "get", "m2", "--out", "-")
	if r.code != 0 || r.stdout != "\xff\x00\x01" || r.stderr != "" {
		t.Errorf("--out -: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	env := wantError(t, cli(t, home, "inbox", "get", "m3", "--out", received, "--json"), localapi.CodeInvalidArgument, exitUsage)
	if !strings.Contains(*env.Message, "is the received file itself") {
		t.Errorf("--out onto the received file: %s", *env.Message)
	}
	if got, _ := os.ReadFile(received); string(got) != "file" {
		t.Errorf("the received file was overwritten: %q", got)
	}
	wantError(t, cli(t, home, "inbox", "get", "nope", "--json"), localapi.CodeNotFound, exitFailure)
}

// TestFindAmbiguous: an ambiguous hostname is an error envelope on stderr
// and nothing on stdout, also with --json.
func TestFindAmbiguous(t *testing.T) {
	home := startFake(t, &fakeBackend{})
	env := wantError(t, cli(t, home, "find", "twins", "--json"), localapi.CodeAmbiguous, exitFailure)
	if !strings.Contains(*env.Hint, "0a0b.0c0d.0e0f, 1111.2222.3333") {
		t.Errorf("hint does not list the claimants: %q", *env.Hint)
	}
	r := cli(t, home, "find", "twins")
	if r.code != exitFailure || r.stdout != "" || !strings.HasPrefix(r.stderr, "error: dht: name twins") {
		t.Errorf("text: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestSessionValidation: malformed arguments fail with invalid_argument
// before any daemon is contacted (there is none here).
func TestSessionValidation(t *testing.T) {
	home := shortHome(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, make([]byte, maxInlineBinary+1), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"echo", "bad_host!", "hi"}, `"bad_host!" is neither a pilot address nor a valid hostname`},
		{[]string{"echo", "3f2a.91c0.7d1g", "hi"}, "invalid pilot address"},
		{[]string{"echo", "-agent", "hi"}, "unknown shorthand flag"},
		{[]string{"echo", strings.Repeat("a", 64), "hi"}, "over the 63 limit"},
		{[]string{"echo", otherAddr}, "pilot echo takes 2 arguments (<target> <text>), got 1"},
		{[]string{"send", otherAddr, "{bad", "--json-body"}, "not valid JSON"},
		{[]string{"send", otherAddr, "--file", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"send", otherAddr, "--file", dir}, "is not a regular file"},
		{[]string{"send", otherAddr, "--file", ""}, "--file needs a path"},
		{[]string{"send", otherAddr, "--binary", filepath.Join(dir, "missing")}, "no such file or directory"},
		{[]string{"send", otherAddr, "--binary", big}, "at most 783360 bytes travel inline"},
		{[]string{"send", otherAddr, "--file", file, "--binary", file}, "--file and --binary cannot be used together"},
		{[]string{"send", otherAddr, "text", "--file", file}, "give either a text argument or --file/--binary, not both"},
		{[]string{"send", otherAddr, "--file", file, "--json-body"}, "--json-body applies to the text argument"},
		{[]string{"send", otherAddr}, "nothing to send"},
		{[]string{"send", otherAddr, "a", "b"}, "pilot send takes 1 to 2 arguments (<target> [text]), got 3"},
		{[]string{"send", otherAddr, "\xff"}, "not valid UTF-8"},
		{[]string{"inbox", "extra"}, `unknown command "extra" for "pilot inbox"`},
		{[]string{"inbox", "get"}, "pilot inbox get takes 1 argument (<id>), got 0"},
		{[]string{"inbox", "get", ""}, "the message ID is empty"},
		{[]string{"inbox", "get", "m1", "--out", "-"}, "--out - writes the raw body to stdout"},
		{[]string{"inbox", "get", "m1", "--out", filepath.Join(dir, "no", "such")}, "does not exist"},
		{[]string{"inbox", "get", "m1", "--out", dir}, "is a folder"},
		{[]string{"publish", "Weather", "x"}, "topic names are lower case"},
		{[]string{"publish", "weather", ""}, "the message is empty"},
		{[]string{"subscribe", "a/b"}, "invalid topic name"},
		{[]string{"subscribe", "t", "--count", "-1"}, "--count must not be negative"},
		{[]string{"events", "--count", "-2"}, "--count must not be negative"},
		{[]string{"trust"}, "pilot trust needs a subcommand: approve, list, pending, reject, request, revoke"},
		{[]string{"trust", "bogus"}, `unknown command "bogus" for "pilot trust"`},
		{[]string{"trust", "request", "x.y"}, "invalid pilot address"},
		{[]string{"trust", "request", otherAddr, "--message", strings.Repeat("m", 1025)}, "--message is 1025 bytes; at most 1024"},
		{[]string{"trust", "approve", otherAddr, "--message", "x"}, "unknown flag: --message"},
		{[]string{"port", "public", "0"}, `port "0" is not a port: want a number from 1 to 65535`},
		{[]string{"port", "public", "65536"}, `port "65536" is not a port`},
		{[]string{"port", "private", "http"}, `port "http" is not a port`},
		{[]string{"port", "private", "+80"}, `port "+80" is not a port`},
		{[]string{"port", "open", "80"}, `unknown command "open" for "pilot port"`},
		{[]string{"expose", "8080"}, "--to HOST:PORT is required"},
		{[]string{"expose", "8080", "--to", "localhost"}, `--to "localhost" is not host:port`},
		{[]string{"expose", "8080", "--to", ":80"}, `--to ":80" is not host:port`},
		{[]string{"expose", "8080", "--to", "127.0.0.1:0"}, `--to port "0" is not a port`},
		{[]string{"expose", "8080", "--to", "127.0.0.1:99999"}, `--to port "99999" is not a port`},
		{[]string{"expose", "0", "--to", "127.0.0.1:80"}, `port "0" is not a port`},
		{[]string{"forward", "127.0.0.1", "--to", otherAddr + ":80"}, `listen address "127.0.0.1" is not host:port`},
		{[]string{"forward", "127.0.0.1:9000"}, "--to <addr|hostname>:<port> is required"},
		{[]string{"forward", "127.0.0.1:9000", "--to", otherAddr}, "has no port"},
		{[]string{"forward", "127.0.0.1:9000", "--to", "bad_host:80"}, "neither a pilot address nor a valid hostname"},
		{[]string{"forward", "127.0.0.1:9000", "--to", otherAddr + ":0"}, `--to port "0" is not a port`},
		{[]string{"tunnel", "close"}, "pilot tunnel close takes 1 argument (<id>), got 0"},
		{[]string{"listen", "0"}, `port "0" is not a port`},
		{[]string{"listen", "70000"}, `port "70000" is not a port`},
		{[]string{"listen", "80", "--timeout", "-1s"}, "--timeout must not be negative"},
		{[]string{"connect", otherAddr}, "has no port"},
		{[]string{"connect", otherAddr + ":"}, `target port "" is not a port`},
		{[]string{"connect", otherAddr + ":0"}, `target port "0" is not a port`},
		{[]string{"connect", "bad!:1000"}, "neither a pilot address nor a valid hostname"},
		{[]string{"connect", "[::1]:1000"}, `"[::1]" is neither a pilot address nor a valid hostname`},
		{[]string{"set-hostname", "Bad_Name"}, "is not allowed"},
		{[]string{"set-hostname", "3f2a91c07d14"}, "would read as a Pilot address"},
		{[]string{"set-hostname", "-x"}, "unknown shorthand flag"},
		{[]string{"set-hostname", "--", "-x"}, "must not start or end with '-'"},
		{[]string{"set-hostname", strings.Repeat("a", 64)}, "over the 63 limit"},
		{[]string{"set-hostname"}, "give a hostname, or --clear"},
		{[]string{"set-hostname", "x", "--clear"}, "give a hostname or --clear, not both"},
		{[]string{"set-hostname", "a", "b"}, "pilot set-hostname takes 0 to 1 argument"},
		{[]string{"set-tags", "a,,b"}, "tag is empty"},
		{[]string{"set-tags", "a,b_c"}, "is not allowed"},
		{[]string{"set-tags"}, "give comma-separated tags"},
		{[]string{"set-tags", "a", "--clear"}, "give tags or --clear, not both"},
		{[]string{"find"}, "give a hostname, or --tag <tag>"},
		{[]string{"find", "x", "--tag", "y"}, "give a hostname or --tag, not both"},
		{[]string{"find", "--tag", "bad tag"}, "is not allowed"},
		{[]string{"find", "--tag", ""}, "tag is empty"},
		{[]string{"find", "bad.name"}, "is not allowed"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			// --json first: after "--" it would be an argument.
			env := wantError(t, cli(t, home, append([]string{"--json"}, tc.args...)...), localapi.CodeInvalidArgument, exitUsage)
			if !strings.Contains(*env.Message, tc.want) {
				t.Errorf("message %q does not contain %q", *env.Message, tc.want)
			}
		})
	}
}

// TestSessionNotRunning: valid commands reach for the daemon and say it is
// not running.
func TestSessionNotRunning(t *testing.T) {
	home := shortHome(t)
	for _, args := range [][]string{
		{"echo", otherAddr, "hi"}, {"send", "weather", "hi"}, {"inbox"}, {"inbox", "get", "m1"}, {"inbox", "rm", "m1"},
		{"publish", "t", "x"}, {"subscribe", "t"}, {"events"}, {"trust", "list"}, {"trust", "revoke", otherAddr},
		{"port", "public", "80"}, {"ports"}, {"expose", "80", "--to", "127.0.0.1:80"},
		{"forward", "127.0.0.1:0", "--to", "weather:80"}, {"tunnels"}, {"tunnel", "close", "t1"},
		{"listen", "1000"}, {"connect", "weather:1000"}, {"set-hostname", "x"}, {"set-tags", "--clear"}, {"find", "x"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			wantError(t, cli(t, home, append(args, "--json")...), localapi.CodeNotRunning, exitNotRunning)
		})
	}
}
