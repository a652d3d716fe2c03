package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

const (
	bootA = "/ip4/127.0.0.1/tcp/4410/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
	bootB = "/ip4/127.0.0.2/tcp/4410/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"
	bootC = "/ip4/127.0.0.3/tcp/4410/p2p/12D3KooWLsASPRRbFc4VGpyHLbkpqUiQaqFdaDJDkrFnsFSZh9bB"
)

func TestBootstrapCommands(t *testing.T) {
	home := shortHome(t)
	var l bootstrapList
	wantOK(t, cli(t, home, "bootstrap", "list", "--json"), &l)
	if len(l.Bootstrap) != 0 || l.File != filepath.Join(home, configFileName) {
		t.Fatalf("fresh list = %+v", l)
	}
	for _, a := range []string{bootA, bootB, bootC} {
		wantOK(t, cli(t, home, "bootstrap", "add", a, "--json"), &l)
		if !l.Changed {
			t.Errorf("add %s: changed false", a)
		}
	}
	wantOK(t, cli(t, home, "bootstrap", "add", bootA, "--json"), &l)
	if l.Changed || len(l.Bootstrap) != 3 {
		t.Errorf("adding a listed address changed the list: %+v", l)
	}
	st, err := os.Stat(filepath.Join(home, configFileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	// rm by peer ID removes every address of that peer.
	wantOK(t, cli(t, home, "bootstrap", "rm", "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN", "--json"), &l)
	if len(l.Bootstrap) != 1 || l.Bootstrap[0] != bootC {
		t.Errorf("after rm by peer ID: %v", l.Bootstrap)
	}
	wantOK(t, cli(t, home, "bootstrap", "rm", bootC, "--json"), &l)
	if len(l.Bootstrap) != 0 {
		t.Errorf("after rm: %v", l.Bootstrap)
	}
	wantError(t, cli(t, home, "bootstrap", "rm", bootC, "--json"), localapi.CodeNotFound, 1)
	wantError(t, cli(t, home, "bootstrap", "add", "/ip4/127.0.0.1/tcp/1", "--json"), localapi.CodeInvalidArgument, 2)
	wantError(t, cli(t, home, "bootstrap", "rm", "nonsense", "--json"), localapi.CodeInvalidArgument, 2)
}

func TestConfigFileRefusesBadInput(t *testing.T) {
	for name, body := range map[string]string{
		"unknown key": "bootstrap = []\nbootstrapp = [\"x\"]\n",
		"bad address": "bootstrap = [\"/ip4/1.2.3.4/tcp/1\"]\n",
		"not toml":    "bootstrap = [\n",
		"wrong type":  "bootstrap = 3\n",
		"oversize":    "# " + strings.Repeat("x", maxConfigFile) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			home := shortHome(t)
			if err := os.WriteFile(filepath.Join(home, configFileName), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			env := wantError(t, cli(t, home, "bootstrap", "list", "--json"), localapi.CodeInvalidArgument, 2)
			if !strings.Contains(*env.Message, configFileName) {
				t.Errorf("message does not name the file: %s", *env.Message)
			}
			env = wantError(t, cli(t, home, "up", "--json", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"), localapi.CodeInvalidArgument, 2)
			if fileExists(filepath.Join(home, "store")) || fileExists(filepath.Join(home, socketName)) {
				t.Error("a refused start left a store or socket behind")
			}
		})
	}
}

func FuzzParseFileConfig(f *testing.F) {
	f.Add([]byte("bootstrap = [\"" + bootA + "\"]\n"))
	f.Add([]byte("bootstrap = []\n"))
	f.Add([]byte("x = 1\n"))
	f.Add([]byte("bootstrap = [\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseFileConfig("fuzz", b)
		if err != nil {
			return
		}
		for _, s := range c.Bootstrap {
			if checkBootstrapAddr(s) != nil {
				t.Fatalf("accepted a bad bootstrap address %q", s)
			}
		}
	})
}

// TestUpJoinsThroughConfigFile: `pilot bootstrap add` alone is enough for
// the next `pilot up` to join the mesh.
func TestUpJoinsThroughConfigFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	homeA, homeB := shortHome(t), shortHome(t)
	a := startDaemon(t, bin, "A", homeA, "--public", "--json")
	readyA := a.ready(t)
	var l bootstrapList
	wantOK(t, cli(t, homeB, "bootstrap", "add", tcpJoin(t, readyA), "--json"), &l)
	b := startDaemon(t, bin, "B", homeB, "--public", "--json")
	readyB := b.ready(t)
	if readyB.FirstNode {
		t.Fatalf("B started as a first node despite its config file: %+v", readyB)
	}
	eventually(t, "B resolves A", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeB, "resolve", readyA.Address, "--json", "--timeout", "10s")
		return r.code == 0, r.stderr
	})
	b.stop(t)
	a.stop(t)
}
