package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The binary under test is built once per test process.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// pilotBinary builds ./ (this command) once and returns the binary's path.
func pilotBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "pilot-e2e-bin")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "pilot")
		out, err := exec.Command("go", "build", "-o", buildPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// removeBinary deletes the built binary; TestMain calls it.
func removeBinary() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// notifyBuffer collects a process's stdout and lets a test wait for it.
type notifyBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newNotifyBuffer() *notifyBuffer { return &notifyBuffer{changed: make(chan struct{})} }

func (b *notifyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *notifyBuffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.changed
}

// daemon is one `pilot up` subprocess.
type daemon struct {
	name, home string
	cmd        *exec.Cmd
	stdout     *notifyBuffer
	done       chan struct{} // closed when the process has exited
	waitErr    error         // valid after done
}

// loopback makes a daemon listen on 127.0.0.1 only, with random ports.
var loopback = []string{"--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0", "--listen", "/ip4/127.0.0.1/udp/0/quic-v1"}

// loopbackTCP is loopback for a swarm daemon, which runs over TCP only.
var loopbackTCP = []string{"--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// startDaemon runs `pilot --home home up <loopback> args...`. Its stderr
// goes to a file that is logged if the test fails; the process is killed at
// cleanup if it still runs.
func startDaemon(t *testing.T, bin, name, home string, args ...string) *daemon {
	t.Helper()
	d, _ := startDaemonLog(t, bin, name, home, args...)
	return d
}

// startDaemonLog is startDaemon that also returns the path of the file
// the daemon's stderr goes to.
func startDaemonLog(t *testing.T, bin, name, home string, args ...string) (*daemon, string) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{name: name, home: home, stdout: newNotifyBuffer(), done: make(chan struct{})}
	listen := loopback
	if slices.Contains(args, "--swarm-key") || fileExists(filepath.Join(home, swarmKeyFile)) {
		listen = loopbackTCP // a private swarm is TCP-only
	}
	d.cmd = exec.Command(bin, append(append([]string{"--home", home, "up"}, listen...), args...)...)
	d.cmd.Stdout = d.stdout
	d.cmd.Stderr = logf
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		logf.Close()
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
			out, _ := d.stdout.snapshot()
			logs, _ := os.ReadFile(logPath)
			t.Logf("daemon %s (home %s) stdout:\n%s\nstderr:\n%s", name, home, out, logs)
		}
	})
	return d, logPath
}

// waitStdout waits until the daemon's stdout satisfies match.
func (d *daemon) waitStdout(t *testing.T, what string, timeout time.Duration, match func(string) bool) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		out, changed := d.stdout.snapshot()
		if match(out) {
			return out
		}
		select {
		case <-changed:
		case <-d.done:
			if out, _ := d.stdout.snapshot(); match(out) {
				return out
			}
			t.Fatalf("daemon %s exited (%v) before %s; stdout: %q", d.name, d.waitErr, what, out)
		case <-deadline.C:
			t.Fatalf("daemon %s: no %s within %s; stdout: %q", d.name, what, timeout, out)
		}
	}
}

// ready waits for the --json ready envelope and decodes it.
func (d *daemon) ready(t *testing.T) upReady {
	t.Helper()
	out := d.waitStdout(t, "ready envelope", 60*time.Second, func(s string) bool { return strings.Contains(s, "\n") })
	line, _, _ := strings.Cut(out, "\n")
	var r upReady
	decodeOK(t, line+"\n", &r)
	return r
}

// stop sends SIGTERM and requires a clean exit 0 and the socket removed.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM %s: %v", d.name, err)
	}
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon %s did not exit within 30s of SIGTERM", d.name)
	}
	if d.waitErr != nil {
		t.Errorf("daemon %s exited with %v, want exit 0", d.name, d.waitErr)
	}
	if _, err := os.Stat(filepath.Join(d.home, socketName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("daemon %s left its socket behind (stat: %v)", d.name, err)
	}
}

// pilotRun runs the CLI binary and fails the test if it does not return
// within timeout.
func pilotRun(t *testing.T, bin string, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("pilot %s did not return within %s (hung)", strings.Join(args, " "), timeout)
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("pilot %s: %v", strings.Join(args, " "), err)
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errb.String()}
}

// eventually polls cond every interval until it holds or timeout passes.
func eventually(t *testing.T, what string, timeout, interval time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still false after %s; last attempt: %s", what, timeout, last)
		}
		<-tick.C
	}
}

// tcpJoin is the loopback TCP address others bootstrap from, out of a
// daemon's ready message.
func tcpJoin(t *testing.T, r upReady) string {
	t.Helper()
	for _, addr := range r.Addrs {
		if strings.HasPrefix(addr, "/ip4/127.0.0.1/tcp/") && strings.HasSuffix(addr, "/p2p/"+r.PeerID) {
			return addr
		}
	}
	t.Fatalf("%s has no loopback TCP join address: %v", r.Address, r.Addrs)
	return ""
}
