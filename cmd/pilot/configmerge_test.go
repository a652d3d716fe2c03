package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/swarmkey"
)

// writeConfig writes body as home's config file.
func writeConfig(t *testing.T, home, body string) string {
	t.Helper()
	path := filepath.Join(home, configFileName)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// nonDefaults are non-default values, as TOML, for the flags of `pilot
// up` this test knows, and what the flag's value then prints.
var nonDefaults = map[string][2]string{
	"listen":        {`["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"]`, "[/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1]"},
	"bootstrap":     {`["` + bootA + `"]`, ""},
	"anchor":        {"true", "true"},
	"public":        {"true", "true"},
	"no-mdns":       {"true", "true"},
	"task-handler":  {`"/bin/cat -u"`, "/bin/cat -u"},
	"task-timeout":  {`"90s"`, "1m30s"},
	"task-min-polo": {"500", "500"},
	"swarm-key":     {`"/etc/pilot/swarm.key"`, "/etc/pilot/swarm.key"},
	"metrics":       {`"127.0.0.1:9464"`, "127.0.0.1:9464"},
}

// genericNonDefault is a value unlike f's default, as TOML, for a flag
// this test does not know: a flag added to `pilot up` later is covered too.
func genericNonDefault(t *testing.T, f *pflag.Flag) string {
	t.Helper()
	if _, ok := f.Value.(pflag.SliceValue); ok {
		if tomlKind(sliceElemType(f.Value.Type())) == "string" {
			return `["x"]`
		}
		return "[1]"
	}
	switch tomlKind(f.Value.Type()) {
	case "boolean":
		return strconv.FormatBool(f.DefValue != "true")
	case "integer", "float":
		n, err := strconv.ParseFloat(f.DefValue, 64)
		if err != nil {
			t.Fatalf("--%s default %q: %v", f.Name, f.DefValue, err)
		}
		return strconv.FormatFloat(n+1, 'f', -1, 64)
	}
	if f.Value.Type() == "duration" {
		return `"90s"`
	}
	return tomlQuote(f.DefValue + "x")
}

func TestConfigFileSetsUpFlags(t *testing.T) {
	home := shortHome(t)
	var body strings.Builder
	for _, name := range upSettingNames(t) {
		v, ok := nonDefaults[name]
		if !ok {
			v[0] = genericNonDefault(t, upFlags().Lookup(name))
		}
		fmt.Fprintf(&body, "%s = %s\n", name, v[0])
	}
	writeConfig(t, home, body.String())
	cmd := newUpCmd(&app{})
	// Flags on the command line win over the file.
	if err := cmd.ParseFlags([]string{"--task-min-polo", "7", "--public=false", "--bootstrap", bootC}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfigFile(cmd, home); err != nil {
		t.Fatal(err)
	}
	flagWins := map[string]string{
		"bootstrap":     "[" + bootC + "]", // additive: runUp joins the file's list
		"public":        "false",
		"task-min-polo": "7",
	}
	defaults := upFlags()
	for _, name := range upSettingNames(t) {
		got := cmd.Flags().Lookup(name).Value.String()
		want, ok := flagWins[name]
		if !ok {
			want = nonDefaults[name][1]
		}
		switch {
		case want != "" && got != want:
			t.Errorf("--%s = %s, want %s", name, got, want)
		case want == "" && got == defaults.Lookup(name).Value.String():
			t.Errorf("--%s = %s: the file's value was not applied", name, got)
		}
		if cmd.Flags().Lookup(name).Changed != slices.Contains([]string{"bootstrap", "public", "task-min-polo"}, name) {
			t.Errorf("--%s: Changed = %v; the file must not count as the command line", name, cmd.Flags().Lookup(name).Changed)
		}
	}
	c, err := loadFileConfig(home)
	if err != nil || !slices.Equal(c.Bootstrap, []string{bootA}) {
		t.Errorf("file bootstrap = %v (%v)", c.Bootstrap, err)
	}
}

func TestConfigFileRefusals(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"unknown key":      {"anchor = false\nlistn = []\n", `:2: unknown setting "listn"`},
		"string for bool":  {"anchor = \"yes\"\n", ":1: anchor: want a boolean"},
		"string for int":   {"\n\ntask-min-polo = \"5\"\n", ":3: task-min-polo: want an integer"},
		"int out of range": {"task-min-polo = 5000\n", ":1: task-min-polo: 5000: want -1"},
		"scalar for array": {"listen = \"/ip4/127.0.0.1/tcp/0\"\n", ":1: listen: want an array of strings"},
		"array for scalar": {"swarm-key = [\"a\"]\n", ":1: swarm-key: want a string"},
		"bad element":      {"listen = [\"/ip4/127.0.0.1/tcp/0\", 3]\n", ":1: listen: element 2"},
		"bad multiaddr":    {"listen = [\"nonsense\"]\n", ":1: listen: \"nonsense\" is not a multiaddr"},
		"bad duration":     {"task-timeout = \"soon\"\n", ":1: task-timeout: time: invalid duration"},
		"int for duration": {"task-timeout = 60\n", ":1: task-timeout: want a string"},
		"bad metrics":      {"metrics = \"9464\"\n", ":1: metrics: \"9464\": want HOST:PORT"},
		"table":            {"anchor = true\n[node]\nanchor = true\n", ":2: table [node]"},
		"dotted key":       {"node.anchor = true\n", ":1: dotted key node.anchor"},
		"help":             {"help = true\n", `unknown setting "help"`},
		"home":             {"home = \"/tmp\"\n", `unknown setting "home"`},
		"not toml":         {"anchor = \n", ":1:"},
		"oversize":         {"# " + strings.Repeat("x", maxConfigFile) + "\n", "over 64 KiB"},
	} {
		t.Run(name, func(t *testing.T) {
			home := shortHome(t)
			path := writeConfig(t, home, tc.body)
			for _, args := range [][]string{
				{"up", "--json", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"},
				{"bootstrap", "add", bootA, "--json"},
				{"bootstrap", "list", "--json"},
				{"init", "--json"},
			} {
				env := wantError(t, cli(t, home, args...), localapi.CodeInvalidArgument, 2)
				if args[0] == "init" {
					continue // refused because the file exists, whatever it holds
				}
				if !strings.Contains(*env.Message, path) || !strings.Contains(*env.Message, tc.want) {
					t.Errorf("%s: message %q does not name the file and %q", args[0], *env.Message, tc.want)
				}
				if !strings.Contains(*env.Hint, "pilot init") {
					t.Errorf("%s: hint %q", args[0], *env.Hint)
				}
			}
			if got, _ := os.ReadFile(path); string(got) != tc.body {
				t.Error("a refused config file was changed")
			}
			entries, _ := os.ReadDir(home)
			if len(entries) != 1 {
				t.Errorf("a refused config left files behind: %v", entries)
			}
		})
	}
}

func TestBootstrapEditKeepsOtherSettings(t *testing.T) {
	home := shortHome(t)
	wantOK(t, cli(t, home, "init", "--json"), new(initResult))
	path := filepath.Join(home, configFileName)
	body, _ := os.ReadFile(path)
	edited := strings.Replace(string(body), "anchor = false", "# ours: this node is an anchor\nanchor = true # on the VPS", 1)
	edited = strings.Replace(edited, "bootstrap = []", "bootstrap = [] # trailing comment", 1)
	writeConfig(t, home, edited)

	var l bootstrapList
	wantOK(t, cli(t, home, "bootstrap", "add", bootA, "--json"), &l)
	wantOK(t, cli(t, home, "bootstrap", "add", bootC, "--json"), &l)
	got, _ := os.ReadFile(path)
	for _, keep := range []string{"# ours: this node is an anchor\nanchor = true # on the VPS\n", "# trailing comment", configHeader} {
		if !strings.Contains(string(got), keep) {
			t.Errorf("bootstrap add lost %q:\n%s", keep, got)
		}
	}
	c, err := loadFileConfig(home)
	if err != nil || !slices.Equal(c.Bootstrap, []string{bootA, bootC}) {
		t.Fatalf("after add: %v (%v)", c.Bootstrap, err)
	}
	wantOK(t, cli(t, home, "bootstrap", "rm", bootA, "--json"), &l)
	wantOK(t, cli(t, home, "bootstrap", "rm", bootC, "--json"), &l)
	got, _ = os.ReadFile(path)
	if string(got) != edited {
		t.Errorf("add then rm did not give back the file byte for byte:\n%s", got)
	}

	// A file without the key gets it appended; a missing file is written
	// as `pilot init` writes it.
	writeConfig(t, home, "anchor = true")
	wantOK(t, cli(t, home, "bootstrap", "add", bootA, "--json"), &l)
	if got, _ := os.ReadFile(path); string(got) != "anchor = true\nbootstrap = [\n  \""+bootA+"\",\n]\n" {
		t.Errorf("appended: %q", got)
	}
	home2 := shortHome(t)
	wantOK(t, cli(t, home2, "bootstrap", "add", bootA, "--json"), &l)
	got, _ = os.ReadFile(filepath.Join(home2, configFileName))
	if !bytes.HasPrefix(got, []byte(configHeader)) || !strings.Contains(string(got), "task-min-polo = -1") {
		t.Errorf("bootstrap add without a file wrote:\n%s", got)
	}
}

// startUp runs `pilot --home home up args...` with no flag added, so
// that the config file decides what the command line does not.
func startUp(t *testing.T, bin, name, home string, args ...string) *daemon {
	t.Helper()
	d := &daemon{name: name, home: home, stdout: newNotifyBuffer(), done: make(chan struct{})}
	var stderr bytes.Buffer
	d.cmd = exec.Command(bin, append([]string{"--home", home, "up"}, args...)...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, &stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon %s stderr:\n%s", name, stderr.String())
		}
	})
	return d
}

// TestUpAppliesConfigFile: a real daemon takes its listen addresses, mDNS
// setting and swarm key from the file, and a flag overrides the file.
func TestUpAppliesConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	keys := shortHome(t)
	ids := map[string]string{}
	for _, name := range []string{"a.key", "b.key"} {
		k, err := swarmkey.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if err := swarmkey.Write(filepath.Join(keys, name), k); err != nil {
			t.Fatal(err)
		}
		var info swarmInfo
		wantOK(t, cli(t, keys, "swarm", "id", filepath.Join(keys, name), "--json"), &info)
		ids[name] = info.SwarmID
	}
	config := "listen = [\"/ip4/127.0.0.1/tcp/0\"]\nno-mdns = true\nswarm-key = \"" + filepath.Join(keys, "a.key") + "\"\n"

	home := shortHome(t)
	writeConfig(t, home, config)
	d := startUp(t, bin, "from-file", home, "--json")
	r := d.ready(t)
	if r.Network != ids["a.key"] {
		t.Errorf("network %q, want the file's swarm %q", r.Network, ids["a.key"])
	}
	if len(r.Addrs) == 0 {
		t.Error("no join addresses")
	}
	for _, a := range r.Addrs {
		if !strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			t.Errorf("join address %s is not the file's listen address", a)
		}
	}
	d.stop(t)

	home2 := shortHome(t)
	writeConfig(t, home2, config)
	d = startUp(t, bin, "flag-wins", home2, "--json", "--swarm-key", filepath.Join(keys, "b.key"))
	if r := d.ready(t); r.Network != ids["b.key"] {
		t.Errorf("network %q, want the flag's swarm %q", r.Network, ids["b.key"])
	}
	d.stop(t)
}

// FuzzSetKey: editing the bootstrap key of any file pilot accepts gives a
// file pilot accepts, with that list and every other setting unchanged.
func FuzzSetKey(f *testing.F) {
	f.Add([]byte("bootstrap = [] # c\nanchor = true\n"), 2)
	f.Add([]byte("# only a comment"), 1)
	f.Add([]byte("anchor = true\r\nbootstrap = [\n  # inside\n  \""+bootA+"\",\n]\r\n"), 0)
	f.Add([]byte("\"bootstrap\" = []\n"), 1)
	f.Fuzz(func(t *testing.T, doc []byte, n int) {
		before, err := parseFileConfig("fuzz", doc)
		if err != nil {
			return
		}
		list := []string{bootA, bootB, bootC}[:max(0, min(3, n))]
		out, err := setKey(doc, "bootstrap", tomlArray(list))
		if err != nil {
			t.Fatalf("setKey on an accepted file: %v", err)
		}
		after, err := parseFileConfig("fuzz", out)
		if err != nil {
			t.Fatalf("the edited file is refused: %v\n%q", err, out)
		}
		if !slices.Equal(after.Bootstrap, list) {
			t.Fatalf("bootstrap = %v, want %v", after.Bootstrap, list)
		}
		others := func(c fileConfig) (s []string) {
			for _, x := range c.Settings {
				if x.Key != "bootstrap" {
					s = append(s, x.Key+"="+strings.Join(x.Args, ","))
				}
			}
			return s
		}
		if !slices.Equal(others(before), others(after)) {
			t.Fatalf("other settings changed: %v -> %v", others(before), others(after))
		}
	})
}
