package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// handWrittenKey is a swarm key file typed by hand in the layout the IPFS
// private-network docs give (/key/swarm/psk/1.0.0/, /base16/, 64 hex
// digits); its key is the bytes 0..31, whose swarm ID is 667e40e545ae
// (the test vector of node/swarmkey).
const handWrittenKey = "/key/swarm/psk/1.0.0/\n/base16/\n000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

func TestSwarmNewAndID(t *testing.T) {
	home := shortHome(t)
	out := filepath.Join(t.TempDir(), "team.key")
	var made swarmInfo
	wantOK(t, cli(t, home, "swarm", "new", "--out", out, "--json"), &made)
	if made.File != out || !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(made.SwarmID) {
		t.Fatalf("swarm new = %+v", made)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", st.Mode().Perm(), err)
	}
	body, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(body), "/key/swarm/psk/1.0.0/\n/base16/\n") {
		t.Errorf("not the IPFS swarm.key layout: %q", body)
	}
	var id swarmInfo
	wantOK(t, cli(t, home, "swarm", "id", out, "--json"), &id)
	if id.SwarmID != made.SwarmID {
		t.Errorf("swarm id %s, swarm new said %s", id.SwarmID, made.SwarmID)
	}
	env := wantError(t, cli(t, home, "swarm", "new", "--out", out, "--json"), localapi.CodeInvalidArgument, 2)
	if !strings.Contains(*env.Message, "exists") {
		t.Errorf("overwrite refusal does not say why: %s", *env.Message)
	}
	after, _ := os.ReadFile(out)
	if string(after) != string(body) {
		t.Error("the existing key was changed")
	}

	// Default: <home>/swarm.key, which `pilot up` then uses.
	wantOK(t, cli(t, home, "swarm", "new", "--json"), &made)
	if made.File != filepath.Join(home, swarmKeyFile) {
		t.Errorf("default file %s, want <home>/swarm.key", made.File)
	}
	wantOK(t, cli(t, home, "swarm", "id", "--json"), &id)
	if id.SwarmID != made.SwarmID {
		t.Errorf("swarm id of <home>/swarm.key: %s, want %s", id.SwarmID, made.SwarmID)
	}
}

func TestSwarmKeyWrittenByHand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swarm.key")
	if err := os.WriteFile(path, []byte(handWrittenKey), 0o600); err != nil {
		t.Fatal(err)
	}
	var id swarmInfo
	wantOK(t, cli(t, shortHome(t), "swarm", "id", path, "--json"), &id)
	if id.SwarmID != "667e40e545ae" {
		t.Errorf("swarm id %s, want 667e40e545ae", id.SwarmID)
	}
}

// TestUpRefusesBadSwarmKey is issue 5's acceptance 4: a malformed or
// truncated key file is refused at start with a clear error, and nothing
// is started: no socket, no store, no identity.
func TestUpRefusesBadSwarmKey(t *testing.T) {
	valid := handWrittenKey
	bad := map[string]string{
		"empty":          "",
		"truncated hex":  valid[:len(valid)-3],
		"cut mid-header": "/key/swarm/psk/1.0",
		"wrong header":   strings.Replace(valid, "psk/1.0.0", "psk/2.0.0", 1),
		"bad encoding":   strings.Replace(valid, "/base16/", "/base32/", 1),
		"not hex":        strings.Replace(valid, "00010203", "zz010203", 1),
		"extra text":     valid + "and more\n",
		"all zero":       "/key/swarm/psk/1.0.0/\n/base16/\n" + strings.Repeat("0", 64) + "\n",
	}
	for name, body := range bad {
		for _, where := range []string{"flag", "home"} {
			t.Run(name+"/"+where, func(t *testing.T) {
				home := shortHome(t)
				args := []string{"up", "--json", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"}
				path := filepath.Join(home, swarmKeyFile)
				if where == "flag" {
					path = filepath.Join(t.TempDir(), "k")
					args = append(args, "--swarm-key", path)
				}
				if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				env := wantError(t, cli(t, home, args...), localapi.CodeInvalidArgument, 2)
				if !strings.Contains(*env.Message, "swarm key") {
					t.Errorf("message does not name the swarm key: %s", *env.Message)
				}
				for _, left := range []string{socketName, "store", "identity.key"} {
					if fileExists(filepath.Join(home, left)) {
						t.Errorf("a refused start left %s behind", left)
					}
				}
			})
		}
	}
	t.Run("missing file", func(t *testing.T) {
		home := shortHome(t)
		wantError(t, cli(t, home, "up", "--json", "--swarm-key", filepath.Join(home, "nope.key")), localapi.CodeInvalidArgument, 2)
	})
}

// TestSwarmDaemons: two daemons with the same key file form a swarm
// (status names it, TCP only); a daemon of the public mesh cannot resolve
// into it; a home used in the swarm refuses to start in the public mesh.
func TestSwarmDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	key := filepath.Join(t.TempDir(), "team.key")
	var made swarmInfo
	wantOK(t, cli(t, shortHome(t), "swarm", "new", "--out", key, "--json"), &made)

	homeA, homeB, homeP := shortHome(t), shortHome(t), shortHome(t)
	a := startDaemon(t, bin, "A", homeA, "--swarm-key", key, "--json")
	readyA := a.ready(t)
	if readyA.Network != made.SwarmID || !readyA.FirstNode {
		t.Fatalf("A ready = %+v, want first node of swarm %s", readyA, made.SwarmID)
	}
	join := tcpJoin(t, readyA)
	b := startDaemon(t, bin, "B", homeB, "--swarm-key", key, "--bootstrap", join, "--public", "--json")
	b.ready(t)
	p := startDaemon(t, bin, "P", homeP, "--bootstrap", join, "--json")
	readyP := p.ready(t)
	if readyP.Network != "public" {
		t.Errorf("P network %q, want public", readyP.Network)
	}

	var st localapi.Status
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeB, "status", "--json"), &st)
	if st.Network != made.SwarmID || len(st.Transports) != 1 || st.Transports[0] != "tcp" {
		t.Errorf("B status network %q transports %v, want %s over tcp only", st.Network, st.Transports, made.SwarmID)
	}
	text := pilotRun(t, bin, 30*time.Second, "--home", homeB, "status")
	if !strings.Contains(text.stdout, "swarm "+made.SwarmID) || !strings.Contains(text.stdout, "QUIC") {
		t.Errorf("status text does not name the swarm and its TCP-only transport:\n%s", text.stdout)
	}
	key1, _ := os.ReadFile(key)
	if strings.Contains(text.stdout, strings.TrimSpace(strings.SplitN(string(key1), "\n", 3)[2])) {
		t.Error("status printed the key")
	}
	eventually(t, "B resolves A inside the swarm", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeB, "resolve", readyA.Address, "--json", "--timeout", "10s")
		return r.code == 0, r.stderr
	})
	r := pilotRun(t, bin, 30*time.Second, "--home", homeP, "resolve", readyA.Address, "--json", "--timeout", "5s")
	if r.code == 0 {
		t.Errorf("the public node resolved a swarm member: %s", r.stdout)
	}
	b.stop(t)
	// B's home belongs to the swarm now.
	r = pilotRun(t, bin, 60*time.Second, "--home", homeB, "up", "--json", "--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0")
	env := wantError(t, r, localapi.CodeInvalidArgument, 2)
	if !strings.Contains(*env.Message, "swarm "+made.SwarmID) {
		t.Errorf("the refusal does not name the home's network: %s", *env.Message)
	}
	p.stop(t)
	a.stop(t)
}
