package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/pflag"

	"github.com/pilot-agents/pilot/node/localapi"
)

// upSettingNames enumerates the flags of `pilot up` that a config file
// mirrors: all of them but help.
func upSettingNames(t *testing.T) []string {
	t.Helper()
	var names []string
	upFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			names = append(names, f.Name)
		}
	})
	if len(names) < 9 {
		t.Fatalf("up has only %d flags: %v", len(names), names)
	}
	return names
}

// flagDefaultArgs is f's default as flag arguments.
func flagDefaultArgs(f *pflag.Flag) []string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return []string{f.DefValue}
}

func TestInitWritesEveryUpFlag(t *testing.T) {
	home := filepath.Join(shortHome(t), "new-home")
	var res initResult
	wantOK(t, cli(t, home, "init", "--json"), &res)
	if res.File != filepath.Join(home, configFileName) || res.Replaced {
		t.Errorf("init = %+v", res)
	}
	want := upSettingNames(t)
	if !slices.Equal(slices.Sorted(slices.Values(res.Keys)), slices.Sorted(slices.Values(want))) {
		t.Errorf("keys written %v, want every up flag %v", res.Keys, want)
	}
	if st, err := os.Stat(home); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("home mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	st, err := os.Stat(res.File)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	body, err := os.ReadFile(res.File)
	if err != nil {
		t.Fatal(err)
	}

	// Plain TOML: every flag is a key.
	var m map[string]any
	if err := toml.Unmarshal(body, &m); err != nil {
		t.Fatalf("the written file is not TOML: %v", err)
	}
	for _, name := range want {
		if _, ok := m[name]; !ok {
			t.Errorf("key %s missing from the file", name)
		}
	}
	// Each key is at its flag's default, under the flag's usage.
	c, err := parseFileConfig(res.File, body)
	if err != nil {
		t.Fatalf("pilot refuses the file it wrote: %v", err)
	}
	flags := upFlags()
	for _, s := range c.Settings {
		f := flags.Lookup(s.Key)
		if got, def := s.Args, flagDefaultArgs(f); !slices.Equal(got, def) {
			t.Errorf("%s = %q, want the default %q", s.Key, got, def)
		}
		firstWords := strings.Join(strings.Fields(f.Usage)[:min(4, len(strings.Fields(f.Usage)))], " ")
		if !strings.Contains(string(body), "# "+firstWords) {
			t.Errorf("%s: the usage %q is not a comment in the file", s.Key, f.Usage)
		}
	}
	// Merged into a fresh up command, the file changes no flag.
	cmd := newUpCmd(&app{})
	if err := applySettings(cmd.Flags(), res.File, c.Settings); err != nil {
		t.Fatal(err)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || strings.Join(flagDefaultArgs(f), ",") != strings.Join(flagDefaultArgs(flags.Lookup(f.Name)), ",") {
			t.Errorf("the fresh file moved --%s off its default: %q", f.Name, f.Value.String())
		}
	})

	// Text output names the file.
	home2 := shortHome(t)
	r := cli(t, home2, "init")
	if r.code != 0 || !strings.Contains(r.stdout, configPath(home2)) {
		t.Errorf("text init: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	home := shortHome(t)
	path := filepath.Join(home, configFileName)
	mine := []byte("# mine\nanchor = true\n")
	if err := os.WriteFile(path, mine, 0o600); err != nil {
		t.Fatal(err)
	}
	env := wantError(t, cli(t, home, "init", "--json"), localapi.CodeInvalidArgument, 2)
	if !strings.Contains(*env.Message, path) || !strings.Contains(*env.Hint, "--force") {
		t.Errorf("refusal does not name the file and --force: %s / %s", *env.Message, *env.Hint)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, mine) {
		t.Errorf("a refused init changed the file: %q", got)
	}
	entries, _ := os.ReadDir(home)
	if len(entries) != 1 {
		t.Errorf("a refused init left files behind: %v", entries)
	}

	var res initResult
	wantOK(t, cli(t, home, "init", "--force", "--json"), &res)
	if !res.Replaced {
		t.Errorf("init --force over a file: replaced = false")
	}
	got, _ := os.ReadFile(path)
	want, _ := renderConfig(upFlags())
	if string(got) != want {
		t.Errorf("init --force wrote %q, want the template", got)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config mode after --force %v (%v)", st.Mode().Perm(), err)
	}
}

func TestTOMLQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", `a "quoted" \ path`, "tab\there\nnewline", "ünïcödé ✓", "\x00\x1f\x7f", "bad \xff utf8"} {
		var m map[string]string
		if err := toml.Unmarshal([]byte("k = "+tomlQuote(s)+"\n"), &m); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if m["k"] != want {
			t.Errorf("round trip of %q gave %q", s, m["k"])
		}
	}
}
