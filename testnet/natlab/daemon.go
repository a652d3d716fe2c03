package natlab

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Daemon is a real `pilot up` process running inside a lab host.
type Daemon struct {
	Host    *Host
	Home    string
	Address string
	PeerID  string
	Join    []string // multiaddrs others bootstrap from
	bin     string
	args    []string // what followed `up` (Restart passes them again)
	cmd     *exec.Cmd
	done    chan error
	logPath string
}

// StartDaemon runs `bin --home home up args...` in h's namespace and waits
// (bounded by ctx) for its --json ready line.
func StartDaemon(ctx context.Context, bin string, h *Host, home string, args ...string) (*Daemon, error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(home, "daemon.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	argv := append([]string{"--home", home, "up", "--json", "--no-mdns"}, args...)
	cmd := h.Command(context.Background(), bin, argv...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("natlab: start pilot in %s: %w", h.Namespace, err)
	}
	d := &Daemon{Host: h, Home: home, bin: bin, args: args, cmd: cmd, done: make(chan error, 1), logPath: logPath}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		for sc.Scan() {
		}
		d.done <- cmd.Wait()
		logf.Close()
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			return nil, fmt.Errorf("natlab: pilot in %s exited before it was ready: %s", h.Namespace, d.LogTail())
		}
		var env struct {
			Status string `json:"status"`
			Data   struct {
				Address string   `json:"address"`
				PeerID  string   `json:"peer_id"`
				Addrs   []string `json:"addrs"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil || env.Status != "ok" {
			d.Kill()
			return nil, fmt.Errorf("natlab: pilot in %s: bad ready line %q", h.Namespace, line)
		}
		d.Address, d.PeerID, d.Join = env.Data.Address, env.Data.PeerID, env.Data.Addrs
		return d, nil
	case <-ctx.Done():
		d.Kill()
		return nil, fmt.Errorf("natlab: pilot in %s not ready: %w", h.Namespace, ctx.Err())
	}
}

// CLI runs a pilot client command against the daemon (the socket works
// across namespaces) and decodes its --json data into out.
func (d *Daemon) CLI(ctx context.Context, out any, args ...string) error {
	argv := append(append([]string{"--home", d.Home}, args...), "--json")
	cmd := exec.CommandContext(ctx, d.bin, argv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pilot %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if out == nil {
		return nil
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &env); err != nil {
		return fmt.Errorf("pilot %s: %w", strings.Join(args, " "), err)
	}
	return json.Unmarshal(env.Data, out)
}

// Stop sends SIGTERM and waits (bounded) for a clean exit.
func (d *Daemon) Stop() error {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		return err
	case <-time.After(20 * time.Second):
		d.Kill()
		return fmt.Errorf("natlab: pilot in %s ignored SIGTERM", d.Host.Namespace)
	}
}

// Kill ends the process at once.
func (d *Daemon) Kill() {
	_ = d.cmd.Process.Kill()
}

// Crash kills the daemon with SIGKILL, as a power cut or the OOM killer
// would, and waits (bounded) until it is gone.
func (d *Daemon) Crash() error {
	d.Kill()
	select {
	case err := <-d.done:
		d.done <- err // for a later Stop
		return nil
	case <-time.After(20 * time.Second):
		return fmt.Errorf("natlab: pilot in %s survived SIGKILL", d.Host.Namespace)
	}
}

// Restart starts the daemon again on the same host, home (so the same
// identity and address) and arguments; the old process must be gone.
func (d *Daemon) Restart(ctx context.Context) (*Daemon, error) {
	return StartDaemon(ctx, d.bin, d.Host, d.Home, d.args...)
}

// LogTail is the end of the daemon's stderr, for error messages.
func (d *Daemon) LogTail() string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
