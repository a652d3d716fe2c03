package main

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

func TestContextCatalogue(t *testing.T) {
	home := shortHome(t)
	var c catalogue
	wantOK(t, cli(t, home, "context", "--json"), &c)

	if c.Name != "pilot" || c.Version != node.Version || c.Envelope.OK == "" || c.Envelope.Error == "" {
		t.Errorf("header = %q %q %+v", c.Name, c.Version, c.Envelope)
	}
	var globals []string
	for _, f := range c.GlobalFlags {
		globals = append(globals, f.Name)
	}
	if !slices.Equal(globals, []string{"home", "json"}) {
		t.Errorf("global flags %v, want home and json", globals)
	}

	byName := map[string]commandInfo{}
	for _, cmd := range c.Commands {
		byName[cmd.Name] = cmd
	}
	want := []string{"pilot context", "pilot id", "pilot peers", "pilot ping", "pilot resolve", "pilot status", "pilot unpin", "pilot up"}
	if got := slices.Sorted(maps.Keys(byName)); !slices.Equal(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	for _, cmd := range c.Commands {
		if cmd.Short == "" || !strings.HasPrefix(cmd.Usage, cmd.Name) || len(cmd.Output) == 0 || len(cmd.Examples) == 0 {
			t.Errorf("%s is incomplete: %+v", cmd.Name, cmd)
		}
		for _, f := range cmd.Flags {
			if f.Name == "help" || f.Name == "home" || f.Name == "json" {
				t.Errorf("%s lists flag %s, which belongs in global_flags or nowhere", cmd.Name, f.Name)
			}
		}
		wantDaemon := cmd.Name != "pilot up" && cmd.Name != "pilot context"
		if cmd.NeedsDaemon != wantDaemon {
			t.Errorf("%s needs_daemon = %v", cmd.Name, cmd.NeedsDaemon)
		}
		if cmd.LongRunning != (cmd.Name == "pilot up") {
			t.Errorf("%s long_running = %v", cmd.Name, cmd.LongRunning)
		}
	}

	flags := func(cmd string) map[string]flagInfo {
		m := map[string]flagInfo{}
		for _, f := range byName[cmd].Flags {
			m[f.Name] = f
		}
		return m
	}
	ping := flags("pilot ping")
	if ping["count"].Type != "int" || ping["count"].Default != "3" || ping["timeout"].Type != "duration" {
		t.Errorf("ping flags = %+v", ping)
	}
	up := flags("pilot up")
	for _, name := range []string{"listen", "bootstrap", "anchor", "public", "no-mdns"} {
		if _, ok := up[name]; !ok {
			t.Errorf("up lacks --%s", name)
		}
	}
	if !up["listen"].Repeatable || !up["bootstrap"].Repeatable || up["anchor"].Repeatable {
		t.Errorf("up repeatable flags wrong: %+v", up)
	}
	if args := byName["pilot resolve"].Args; len(args) != 1 || args[0].Name != "addr" || args[0].Description == "" {
		t.Errorf("resolve args = %+v", args)
	}
	if !slices.Equal(byName["pilot id"].Output, []string{"address", "peer_id"}) {
		t.Errorf("id output = %v", byName["pilot id"].Output)
	}
	if !slices.Contains(byName["pilot peers"].Output, "peers[].peer_id") {
		t.Errorf("peers output = %v", byName["pilot peers"].Output)
	}

	codes := map[string]int{}
	for _, e := range c.ErrorCodes {
		codes[e.Code] = e.ExitCode
		if e.Meaning == "" {
			t.Errorf("error code %s has no meaning", e.Code)
		}
	}
	for _, code := range []string{"invalid_argument", "not_found", "ambiguous", "not_running", "connection_failed", "timeout", "trust_required", "internal"} {
		if _, ok := codes[code]; !ok {
			t.Errorf("error code %s missing", code)
		}
	}
	if codes["invalid_argument"] != 2 || codes["not_running"] != 3 || codes["internal"] != 1 {
		t.Errorf("exit codes of error codes = %v", codes)
	}
	var exits []int
	for _, e := range c.ExitCodes {
		exits = append(exits, e.Code)
	}
	if !slices.Equal(exits, []int{0, 1, 2, 3}) {
		t.Errorf("exit codes %v", exits)
	}

	// Without --json: the same catalogue, indented.
	r := cli(t, home, "context")
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "{\n  \"name\": \"pilot\"") {
		t.Fatalf("context: exit %d stderr %q stdout %.60q", r.code, r.stderr, r.stdout)
	}
	var text catalogue
	if err := json.Unmarshal([]byte(r.stdout), &text); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(text, c) {
		t.Error("context and context --json differ")
	}
}

// TestOutputMatchesData checks each command's output annotation against
// the JSON the command really prints.
func TestOutputMatchesData(t *testing.T) {
	samples := map[string]any{
		"up":      upReady{},
		"id":      localapi.Identity{},
		"status":  localapi.Status{},
		"resolve": localapi.Resolved{},
		"ping":    localapi.PingResult{},
		"peers":   localapi.Peers{Peers: []localapi.Peer{{}}},
		"unpin":   localapi.Unpinned{},
		"context": catalogue{},
	}
	root := newRootCmd(&app{})
	for _, cmd := range root.Commands() {
		if !cmd.IsAvailableCommand() {
			continue
		}
		sample, ok := samples[cmd.Name()]
		if !ok {
			t.Errorf("command %s has no sample data in this test", cmd.Name())
			continue
		}
		b, err := json.Marshal(sample)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var top []string
		for _, f := range splitList(cmd.Annotations[annOutput]) {
			name, _, _ := strings.Cut(strings.SplitN(f, "[]", 2)[0], ".")
			if !slices.Contains(top, name) {
				top = append(top, name)
			}
		}
		// omitempty fields may be absent from the sample's JSON, never extra.
		for k := range m {
			if !slices.Contains(top, k) {
				t.Errorf("%s prints field %q missing from its output annotation %v", cmd.Name(), k, top)
			}
		}
		for _, k := range top {
			if _, ok := m[k]; !ok && !omitempty(sample, k) {
				t.Errorf("%s output annotation names %q, which its data lacks", cmd.Name(), k)
			}
		}
	}
}

// omitempty reports whether v's field with JSON name is omitempty.
func omitempty(v any, name string) bool {
	for f := range reflect.TypeOf(v).Fields() {
		n, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if n == name {
			return strings.Contains(opts, "omitempty")
		}
	}
	return false
}

func TestFieldList(t *testing.T) {
	type inner struct {
		X int `json:"x"`
		y int
	}
	type outer struct {
		A    string   `json:"a,omitempty"`
		B    []string `json:"b"`
		In   inner    `json:"in"`
		List []inner  `json:"list"`
		Ptrs []*inner `json:"ptrs"`
		Skip int      `json:"-"`
		Raw  int
	}
	got := fieldList(outer{})
	want := "a,b,in.x,list[].x,ptrs[].x,Raw"
	if got != want {
		t.Errorf("fieldList = %q, want %q", got, want)
	}
	_ = inner{}.y
}
