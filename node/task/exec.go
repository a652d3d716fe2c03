package task

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Defaults of an ExecHandler.
const (
	DefaultExecTimeout = 60 * time.Second
	DefaultMaxOutput   = MaxResult
	// MaxErrorLine bounds the stderr line reported as a failed run's error.
	MaxErrorLine = 512
	// stderrTail is how much of stderr is kept to find its last line.
	stderrTail = 4096
	// waitDelay bounds the wait for the command's pipes once it is killed
	// or has exited (a grandchild may hold them open).
	waitDelay = 2 * time.Second
)

// ExecHandler runs each task with an external command, without a shell:
// the command reads the task as JSON on stdin,
//
//	{"id": "...", "type": "...", "input": <the input>, "requester": "<peer ID>"}
//
// and writes the result on stdout: valid JSON is the result as is,
// anything else becomes a JSON string. Exit code 0 means succeeded;
// another code means failed, with the last line of stderr (at most
// MaxErrorLine bytes) as the error. The command runs in its own process
// group, killed as a whole on timeout, on cancellation and when stdout
// exceeds MaxOutput ("output over limit").
type ExecHandler struct {
	// Command is the program and its arguments. Required.
	Command []string
	// Timeout bounds one run. Default 60 s.
	Timeout time.Duration
	// MaxOutput bounds stdout, in bytes. Default and maximum MaxResult
	// (1 MiB).
	MaxOutput int
}

func (h *ExecHandler) check() error {
	switch {
	case len(h.Command) == 0 || h.Command[0] == "":
		return errors.New("no command")
	case h.Timeout < 0:
		return errors.New("negative timeout")
	case h.MaxOutput < 0 || h.MaxOutput > MaxResult:
		return fmt.Errorf("max output %d out of range (0..%d)", h.MaxOutput, MaxResult)
	}
	return nil
}

// execInput is what the command reads on stdin.
type execInput struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Input     json.RawMessage `json:"input"`
	Requester string          `json:"requester"`
}

// Run runs the command for t. It returns the result, or the error text of
// a failure ("" when the run succeeded), and the wall-clock time of the
// run. When ctx ends first, the command's process group is killed and
// errText is "cancelled". It is safe for concurrent use.
func (h *ExecHandler) Run(ctx context.Context, t Task) (result json.RawMessage, errText string, cost time.Duration) {
	if err := h.check(); err != nil {
		return nil, "handler: " + err.Error(), 0
	}
	timeout := h.Timeout
	if timeout == 0 {
		timeout = DefaultExecTimeout
	}
	limit := h.MaxOutput
	if limit == 0 {
		limit = DefaultMaxOutput
	}
	stdin, err := json.Marshal(execInput{ID: t.ID, Type: t.Type, Input: t.Input, Requester: t.Requester.String()})
	if err != nil {
		return nil, "handler: encode the task: " + err.Error(), 0
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, h.Command[0], h.Command[1:]...)
	cmd.Stdin = bytes.NewReader(stdin)
	stdout := &capWriter{max: limit, over: cancel}
	stderr := &tailWriter{max: stderrTail}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd)

	start := time.Now()
	err = cmd.Run()
	cost = time.Since(start)
	var exitErr *exec.ExitError
	switch {
	case stdout.exceeded():
		return nil, "output over limit", cost
	case ctx.Err() != nil:
		return nil, "cancelled", cost
	case err != nil && errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return nil, fmt.Sprintf("timed out after %s", timeout), cost
	case errors.As(err, &exitErr):
		if line := stderr.lastLine(); line != "" {
			return nil, line, cost
		}
		return nil, fmt.Sprintf("exit status %d", exitErr.ExitCode()), cost
	case err != nil:
		return nil, sanitize("handler: "+err.Error(), MaxErrorLen), cost
	}
	out := stdout.bytes()
	if trimmed := bytes.TrimSpace(out); json.Valid(trimmed) {
		result = trimmed
	} else {
		result, _ = json.Marshal(string(out)) // a string never fails
	}
	if len(result) > MaxResult {
		return nil, "output over limit", cost
	}
	return result, "", cost
}

// capWriter keeps up to max bytes; past that it drops the rest and calls
// over once.
type capWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	max  int
	over func()
	hit  bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hit {
		return len(p), nil
	}
	if w.buf.Len()+len(p) > w.max {
		w.hit = true
		w.over()
		return len(p), nil
	}
	w.buf.Write(p)
	return len(p), nil
}

func (w *capWriter) exceeded() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hit
}

func (w *capWriter) bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Bytes()
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-w.max:]...)
	}
	return len(p), nil
}

// lastLine is the last non-blank line, printable, at most MaxErrorLine
// bytes.
func (w *tailWriter) lastLine() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(string(w.buf), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return sanitize(l, MaxErrorLine)
		}
	}
	return ""
}
