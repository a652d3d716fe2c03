package main

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/testnet/analysis"
	"github.com/pilot-agents/pilot/testnet/harness"
	"github.com/pilot-agents/pilot/testnet/natlab"
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
	want := []string{"pilot a2a get", "pilot a2a serve", "pilot bench", "pilot bootstrap add", "pilot bootstrap list", "pilot bootstrap rm", "pilot connect", "pilot context", "pilot doctor", "pilot echo", "pilot events", "pilot expose", "pilot find", "pilot forward",
		"pilot id", "pilot inbox", "pilot inbox get", "pilot inbox rm", "pilot init", "pilot listen", "pilot mcp", "pilot peers", "pilot ping", "pilot polo", "pilot polo stats",
		"pilot port private", "pilot port public", "pilot ports", "pilot publish", "pilot resolve", "pilot send",
		"pilot set-hostname", "pilot set-tags", "pilot status", "pilot subscribe", "pilot swarm id", "pilot swarm new",
		"pilot task accept", "pilot task cancel", "pilot task complete", "pilot task decline", "pilot task list", "pilot task result", "pilot task submit",
		"pilot testnet analyze", "pilot testnet natlab", "pilot testnet run",
		"pilot trust approve", "pilot trust list", "pilot trust pending", "pilot trust reject", "pilot trust request", "pilot trust revoke",
		"pilot tunnel close", "pilot tunnels", "pilot unpin", "pilot up"}
	if got := slices.Sorted(maps.Keys(byName)); !slices.Equal(got, want) {
		t.Fatalf("commands %v, want %v", got, want)
	}
	streaming := []string{"pilot connect", "pilot events", "pilot listen", "pilot subscribe"}
	longRunning := append([]string{"pilot up", "pilot a2a serve", "pilot mcp", "pilot testnet natlab", "pilot testnet analyze", "pilot testnet run"}, streaming...)
	for _, cmd := range c.Commands {
		// pilot mcp prints MCP messages, not an envelope: it has no output fields.
		noOutput := len(cmd.Output) == 0 && cmd.Name != "pilot mcp"
		if cmd.Short == "" || !strings.HasPrefix(cmd.Usage, cmd.Name) || noOutput || len(cmd.Examples) == 0 {
			t.Errorf("%s is incomplete: %+v", cmd.Name, cmd)
		}
		for _, f := range cmd.Flags {
			if f.Name == "help" || f.Name == "home" || f.Name == "json" {
				t.Errorf("%s lists flag %s, which belongs in global_flags or nowhere", cmd.Name, f.Name)
			}
		}
		local := []string{"pilot up", "pilot context", "pilot bench", "pilot testnet natlab", "pilot testnet analyze", "pilot testnet run", "pilot swarm new", "pilot swarm id",
			"pilot bootstrap list", "pilot bootstrap add", "pilot bootstrap rm", "pilot init"} // work on files, not the daemon
		wantDaemon := !slices.Contains(local, cmd.Name)
		if cmd.NeedsDaemon != wantDaemon {
			t.Errorf("%s needs_daemon = %v", cmd.Name, cmd.NeedsDaemon)
		}
		if cmd.LongRunning != slices.Contains(longRunning, cmd.Name) {
			t.Errorf("%s long_running = %v", cmd.Name, cmd.LongRunning)
		}
		if cmd.Streaming != slices.Contains(streaming, cmd.Name) {
			t.Errorf("%s streaming = %v", cmd.Name, cmd.Streaming)
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
	if args := byName["pilot send"].Args; len(args) != 2 || args[0].Name != "target" || args[0].Optional || args[1].Name != "text" || !args[1].Optional {
		t.Errorf("send args = %+v, want target and an optional text", args)
	}
	send := flags("pilot send")
	for _, name := range []string{"json-body", "file", "binary", "timeout"} {
		if _, ok := send[name]; !ok {
			t.Errorf("send lacks --%s", name)
		}
	}
	if !slices.Equal(byName["pilot connect"].Output, []string{"data", "bytes", "done", "bytes_in", "bytes_out"}) {
		t.Errorf("connect output = %v", byName["pilot connect"].Output)
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
		"up":                upReady{},
		"a2a serve":         a2aReady{},
		"a2a get":           a2aCardView{},
		"id":                localapi.Identity{},
		"status":            localapi.Status{},
		"resolve":           localapi.Resolved{},
		"ping":              localapi.PingResult{},
		"peers":             localapi.Peers{Peers: []localapi.Peer{{}}},
		"unpin":             localapi.Unpinned{},
		"context":           catalogue{},
		"echo":              localapi.EchoResult{},
		"send":              localapi.SendResult{},
		"inbox":             localapi.InboxList{Messages: []localapi.InboxMessage{{}}},
		"inbox get":         localapi.InboxMessage{},
		"inbox rm":          localapi.Deleted{},
		"publish":           localapi.Published{},
		"subscribe":         localapi.TopicEvent{},
		"events":            localapi.LocalEvent{},
		"trust request":     localapi.TrustRecord{},
		"trust approve":     localapi.TrustRecord{},
		"trust reject":      localapi.TrustRecord{},
		"trust revoke":      localapi.TrustRecord{},
		"trust list":        localapi.TrustList{Records: []localapi.TrustRecord{{}}},
		"trust pending":     localapi.TrustList{Records: []localapi.TrustRecord{{}}},
		"port public":       localapi.PortInfo{},
		"port private":      localapi.PortInfo{},
		"ports":             localapi.PortList{Ports: []localapi.PortInfo{{}}},
		"expose":            localapi.Tunnel{},
		"forward":           localapi.Tunnel{},
		"tunnels":           localapi.TunnelList{Tunnels: []localapi.Tunnel{{}}},
		"testnet natlab":    natlabReport{Results: []natlab.Result{{}}},
		"tunnel close":      localapi.Tunnel{},
		"listen":            pipeOutput{},
		"connect":           pipeOutput{},
		"set-hostname":      localapi.Profile{},
		"set-tags":          localapi.Profile{},
		"find":              localapi.FindResult{Claimants: []localapi.Claimant{{}}},
		"listen (chunk)":    pipeChunk{},
		"listen (summary)":  pipeDone{},
		"connect (chunk)":   pipeChunk{},
		"connect (summary)": pipeDone{},
		"bootstrap add":     bootstrapList{},
		"bootstrap list":    bootstrapList{},
		"bootstrap rm":      bootstrapList{},
		"swarm new":         swarmInfo{},
		"swarm id":          swarmInfo{},
		"init":              initResult{},
		"task submit":       localapi.TaskInfo{},
		"task list":         localapi.TaskList{Tasks: []localapi.TaskInfo{{}}},
		"task result":       localapi.TaskInfo{},
		"task accept":       localapi.TaskInfo{},
		"task decline":      localapi.TaskInfo{},
		"task cancel":       localapi.TaskInfo{},
		"task complete":     localapi.TaskInfo{},
		"polo":              localapi.PoloInfo{},
		"polo stats":        localapi.PoloStats{},
		"doctor":            localapi.Doctor{Checks: []localapi.DoctorCheck{{}}},
		"mcp":               struct{}{}, // MCP messages on stdout, no envelope
		"testnet analyze":   analysis.Report{},
		"testnet run":       harness.Report{},
		"bench":             benchReport{},
	}
	// Every command in the tree, by path without "pilot ", groups left out.
	var cmds []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(p *cobra.Command) {
		for _, c := range p.Commands() {
			if c.IsAvailableCommand() {
				if c.Annotations[annGroup] != "true" {
					cmds = append(cmds, c)
				}
				walk(c)
			}
		}
	}
	root := newRootCmd(&app{})
	walk(root)
	for _, cmd := range cmds {
		name := strings.TrimPrefix(cmd.CommandPath(), "pilot ")
		sample, ok := samples[name]
		if !ok {
			t.Errorf("command %s has no sample data in this test", name)
			continue
		}
		checkSample(t, cmd, name, sample)
		// The pipe commands print two kinds of lines; each is covered.
		for _, kind := range []string{" (chunk)", " (summary)"} {
			if extra, ok := samples[name+kind]; ok {
				checkSample(t, cmd, name+kind, extra)
			}
		}
	}
}

// checkSample checks cmd's output annotation against the JSON of sample.
// A sample named "<command> (<kind>)" is one kind of line of several, and
// may lack fields of the annotation.
func checkSample(t *testing.T, cmd *cobra.Command, name string, sample any) {
	t.Helper()
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
		field, _, _ := strings.Cut(strings.SplitN(f, "[]", 2)[0], ".")
		if !slices.Contains(top, field) {
			top = append(top, field)
		}
	}
	// omitempty fields may be absent from the sample's JSON, never extra.
	for k := range m {
		if !slices.Contains(top, k) {
			t.Errorf("%s prints field %q missing from its output annotation %v", name, k, top)
		}
	}
	if strings.Contains(name, " (") {
		return
	}
	for _, k := range top {
		if _, ok := m[k]; !ok && !omitempty(sample, k) {
			t.Errorf("%s output annotation names %q, which its data lacks", name, k)
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
