package natlab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// The test binary doubles as the lab's programs: with NATLAB_HELPER set it
// runs one helper mode (inside a namespace via Host.Command) instead of the
// tests.
func TestMain(m *testing.M) {
	if mode := os.Getenv("NATLAB_HELPER"); mode != "" {
		os.Exit(helperMain(mode))
	}
	goleak.VerifyTestMain(m)
}

// requireLab skips the test when labs cannot be built here (not root, tools
// missing), or fails it when CI=true: CI must never skip.
func requireLab(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("natlab needs root and tools in CI: %v", err)
		}
		t.Skipf("natlab unavailable: %v", err)
	}
}

// newLab builds a lab closed at the end of the test.
func newLab(t *testing.T) *Lab {
	t.Helper()
	requireLab(t)
	l, err := New(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, l.Close()) })
	return l
}

func addHost(t *testing.T, l *Lab, name string, nat NATKind) *Host {
	t.Helper()
	h, err := l.AddHost(name, nat)
	require.NoError(t, err)
	return h
}

// helperTimeout bounds every helper process: it exits by itself after this.
const helperTimeout = 60 * time.Second

// helperMain runs one helper mode and returns the exit code. Modes:
//   - echo: listen on NATLAB_LISTEN ("tcp:addr,udp:addr,..."), print
//     "ready", answer each TCP connection and UDP packet with the observed
//     source "ip:port" (and print "tcp|udp <src>"), until stdin closes.
//   - udp-client: from NATLAB_LOCAL send to each of NATLAB_TARGETS; print
//     "reply <target> <observed>" or "noreply <target>".
//   - tcp-client: dial NATLAB_TARGET; print "reply <observed>" or "error <err>".
//   - lab: build a lab (a public and a cone host), optionally with
//     CloseOnSignal (NATLAB_SIGNAL=1), print "lab <id>", wait for stdin to close.
func helperMain(mode string) int {
	stdinClosed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	wait := func() {
		select {
		case <-stdinClosed:
		case <-time.After(helperTimeout):
		}
	}
	switch mode {
	case "echo":
		var mu sync.Mutex
		say := func(format string, a ...any) { mu.Lock(); fmt.Printf(format+"\n", a...); mu.Unlock() }
		for _, spec := range strings.Split(os.Getenv("NATLAB_LISTEN"), ",") {
			proto, addr, _ := strings.Cut(spec, ":")
			if err := serve(proto, addr, say); err != nil {
				fmt.Println("error", err)
				return 1
			}
		}
		say("ready")
		wait()
	case "udp-client":
		udpClient(os.Getenv("NATLAB_LOCAL"), strings.Split(os.Getenv("NATLAB_TARGETS"), ","))
	case "tcp-client":
		c, err := net.DialTimeout("tcp", os.Getenv("NATLAB_TARGET"), 2*time.Second)
		if err != nil {
			fmt.Println("error", err)
			return 0
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			fmt.Println("error", err)
			return 0
		}
		fmt.Println("reply", strings.TrimSpace(line))
	case "lab":
		ctx := context.Background()
		l, err := New(ctx)
		if err != nil {
			fmt.Println("error", err)
			return 1
		}
		if os.Getenv("NATLAB_SIGNAL") == "1" {
			defer l.CloseOnSignal(ctx)()
		}
		for _, h := range []struct {
			name string
			nat  NATKind
		}{{"pub", None}, {"nat", Cone}} {
			if _, err := l.AddHost(h.name, h.nat); err != nil {
				fmt.Println("error", err)
				return 1
			}
		}
		fmt.Println("lab", l.ID)
		wait()
		_ = l.Close()
	default:
		fmt.Println("error unknown mode", mode)
		return 2
	}
	return 0
}

// serve starts an echo listener; its goroutines end when the process exits.
func serve(proto, addr string, say func(string, ...any)) error {
	switch proto {
	case "tcp":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				say("tcp %s", c.RemoteAddr())
				_, _ = fmt.Fprintln(c, c.RemoteAddr())
				_ = c.Close()
			}
		}()
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return err
		}
		go func() {
			buf := make([]byte, 1500)
			for {
				_, src, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				say("udp %s", src)
				_, _ = pc.WriteTo([]byte(src.String()), src)
			}
		}()
	default:
		return fmt.Errorf("unknown protocol %q", proto)
	}
	return nil
}

// udpClient sends from one local port to each target (5 tries, 300 ms each).
func udpClient(local string, targets []string) {
	pc, err := net.ListenPacket("udp", local)
	if err != nil {
		fmt.Println("error", err)
		return
	}
	defer pc.Close()
	buf := make([]byte, 1500)
	for _, target := range targets {
		dst, err := net.ResolveUDPAddr("udp", target)
		if err != nil {
			fmt.Println("error", err)
			return
		}
		got := ""
		for try := 0; try < 5 && got == ""; try++ {
			_, _ = pc.WriteTo([]byte("ping"), dst)
			_ = pc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			for got == "" {
				n, src, err := pc.ReadFrom(buf)
				if err != nil {
					break
				}
				if src.String() == dst.String() {
					got = string(buf[:n])
				}
			}
		}
		if got == "" {
			fmt.Println("noreply", target)
		} else {
			fmt.Println("reply", target, got)
		}
	}
}

// proc is a running helper whose stdout lines arrive on lines.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// helperCmd prepares the test binary in a helper mode inside h's namespace
// (or in the root namespace when h is nil).
func helperCmd(t *testing.T, h *Host, mode string, env ...string) *exec.Cmd {
	exe, err := os.Executable()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), helperTimeout)
	t.Cleanup(cancel)
	var cmd *exec.Cmd
	if h == nil {
		cmd = exec.CommandContext(ctx, exe, "-test.run=^$")
	} else {
		cmd = h.Command(ctx, exe, "-test.run=^$")
	}
	cmd.Env = append(os.Environ(), append([]string{"NATLAB_HELPER=" + mode}, env...)...)
	return cmd
}

// start runs a long-lived helper; at test end its stdin is closed and the
// process reaped (killed if it does not exit within 10 s).
func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 256)}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody reads: drop rather than block
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-scanned:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-scanned
		}
		_ = cmd.Wait()
	})
	return p
}

// expect returns the first line starting with prefix, within timeout.
func (p *proc) expect(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("helper exited before printing %q", prefix)
			}
			if strings.HasPrefix(line, prefix) {
				return line
			}
			if strings.HasPrefix(line, "error") {
				t.Fatalf("helper: %s", line)
			}
		case <-deadline:
			t.Fatalf("no %q line from helper within %v", prefix, timeout)
		}
	}
}

// echoServer starts an echo helper on h listening on specs and waits for it.
func echoServer(t *testing.T, h *Host, specs ...string) *proc {
	t.Helper()
	p := start(t, helperCmd(t, h, "echo", "NATLAB_LISTEN="+strings.Join(specs, ",")))
	p.expect(t, "ready", 20*time.Second)
	return p
}

// runHelper runs a short helper to completion and returns its stdout lines.
func runHelper(t *testing.T, h *Host, mode string, env ...string) []string {
	t.Helper()
	out, err := helperCmd(t, h, mode, env...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("helper %s: %v: %s", mode, err, ee.Stderr)
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}
