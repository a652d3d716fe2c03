package main

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// pipeChunk is one --json line of connect and listen: bytes received.
type pipeChunk struct {
	Data  string `json:"data"`  // UTF-8 text, or "base64:" and the base64 of the bytes
	Bytes int    `json:"bytes"` // raw bytes in this chunk
}

// pipeDone is the last --json line of connect and listen.
type pipeDone struct {
	Done     bool  `json:"done"`
	BytesIn  int64 `json:"bytes_in"`  // received from the remote side
	BytesOut int64 `json:"bytes_out"` // sent from stdin
}

// pipeOutput documents the union of pipeChunk and pipeDone for the output
// annotation: each line has either data and bytes, or the done fields.
type pipeOutput struct {
	Data     string `json:"data,omitempty"`
	Bytes    int    `json:"bytes,omitempty"`
	Done     bool   `json:"done,omitempty"`
	BytesIn  int64  `json:"bytes_in,omitempty"`
	BytesOut int64  `json:"bytes_out,omitempty"`
}

// pipeBuffer is the read size of both directions.
const pipeBuffer = 32 << 10

// pipeLong is the part of the help text that connect and listen share.
const pipeLong = `Both directions run at once: stdin is sent to the remote side (end of
stdin half-closes the stream, so the remote side reads EOF), and what the
remote side sends is written to stdout. The command ends with exit 0 when
the remote side closes the stream (stdin not yet sent is dropped), or on
SIGINT/SIGTERM.

With --json, stdout carries envelopes instead of raw bytes: one line
{"status":"ok","data":{"data":…,"bytes":N}} per chunk received, where data
is the chunk as UTF-8 text, or "base64:" and its base64 when it is not
UTF-8 text (or when the text itself starts with "base64:"); then, at the
end, one line {"status":"ok","data":{"done":true,"bytes_in":N,"bytes_out":M}}.`

func newListenCmd(a *app) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "listen <port>",
		Short: "Open a Pilot port, wait for one stream, and pipe it to stdin/stdout",
		Long: `Open the port on the daemon and wait for one inbound stream (the port
policy applies: only trusted agents reach a private port), then pipe it like
netcat. The port closes again once the stream arrived.

` + pipeLong,
		Example:     "  pilot listen 1000\n  pilot listen 1000 --json < reply.txt\n  pilot listen 4000 --timeout 5m > received.bin",
		Annotations: pipeAnnotations("port: Pilot port to listen on, 1 to 65535"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			port, err := parsePort("port", args[0], false)
			if err != nil {
				return err
			}
			if err := checkTimeout(cmd, timeout); err != nil {
				return err
			}
			return a.runPipe(cmd, timeout, "no stream arrived on port "+args[0], "raise --timeout, or check that the other agent dials this port",
				func(ctx context.Context, c *localapi.Client) (net.Conn, error) { return c.Listen(ctx, port) })
		}),
	}
	timeoutFlag(cmd, &timeout, "give up when no stream arrives within this long (0: wait until SIGINT)")
	return cmd
}

func newConnectCmd(a *app) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "connect <addr|hostname>:<port>",
		Short: "Open a stream to an agent's Pilot port and pipe it to stdin/stdout",
		Long: `Open a stream to the agent's port (by address or hostname; the target is
split at its last ':') and pipe it like netcat. --timeout bounds only
opening the stream.

` + pipeLong,
		Example:     "  echo hello | pilot connect 3f2a.91c0.7d14:7\n  pilot connect my-agent:1000 --json < request.json",
		Annotations: pipeAnnotations("target: <addr|hostname>:<port>, like 3f2a.91c0.7d14:1000 or my-agent:1000"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target, port, err := parseTargetPort("target", args[0])
			if err != nil {
				return err
			}
			if timeout, err = effectiveTimeout(cmd, timeout, defaultTimeout); err != nil {
				return err
			}
			return a.runPipe(cmd, timeout, "could not open a stream to "+args[0], "raise --timeout, or check connectivity with `pilot ping`",
				func(ctx context.Context, c *localapi.Client) (net.Conn, error) { return c.Connect(ctx, target, port) })
		}),
	}
	timeoutFlag(cmd, &timeout, "give up when the stream is not open within this long (0: 30s)")
	return cmd
}

// pipeAnnotations returns the annotations of connect and listen.
func pipeAnnotations(args string) map[string]string {
	return streamingAnnotations(args, pipeOutput{})
}

// runPipe opens a stream with open (bounded by timeout, 0: none), then
// pipes it. SIGINT or SIGTERM ends it with exit 0 at any point.
func (a *app) runPipe(cmd *cobra.Command, timeout time.Duration, what, hint string,
	open func(context.Context, *localapi.Client) (net.Conn, error)) error {
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	c := localapi.NewClient(a.socket())
	defer c.Close()
	octx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		octx, cancel = context.WithTimeout(ctx, timeout)
	}
	conn, err := open(octx, c)
	timedOut := errors.Is(octx.Err(), context.DeadlineExceeded)
	cancel()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return a.pipeSummary(0, 0) // interrupted while waiting
	case timedOut:
		return localapi.Errorf(localapi.CodeTimeout, hint, "%s within %s", what, timeout)
	default:
		return err
	}
	in, out, err := a.pipe(ctx, conn)
	if err != nil {
		return err
	}
	return a.pipeSummary(in, out)
}

// pipeSummary prints the final --json line of a pipe.
func (a *app) pipeSummary(in, out int64) error {
	if !a.json() {
		return nil
	}
	return a.writeOK(pipeDone{Done: true, BytesIn: in, BytesOut: out})
}

// pipe copies stdin to conn and conn to stdout until the remote side
// closes conn or ctx ends; it closes conn. It returns the bytes received
// and sent.
//
// The goroutine sending stdin is waited for when it can be stopped: when
// stdin ended, or when it takes read deadlines (pipes, sockets, and
// terminals in non-blocking mode). A read on a blocking stdin cannot be
// interrupted; that goroutine then ends with the process, which exits
// right after the command returns.
func (a *app) pipe(ctx context.Context, conn net.Conn) (in, out int64, err error) {
	stdin := a.stdin
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var sent atomic.Int64
	sendErr := make(chan error, 1)
	go func() { sendErr <- sendStdin(conn, stdin, &sent) }()

	stop := context.AfterFunc(ctx, func() { conn.Close() })
	in, rerr := a.receive(conn)
	if rerr == nil && !isTerminal(stdin) {
		// The remote finished sending. Piped input that is still flowing
		// goes out in full (a half-close is not a hang-up: `echo x | pilot
		// connect` to a listener with no input must deliver x); input that
		// stays idle for drainIdle is given up, or an open pipe with
		// nothing to say would hold the command forever.
		waitDrained(ctx, sendErr, &sent)
	}
	interrupted := !stop()
	conn.Close() // ends a send blocked on the connection

	var serr error
	select {
	case serr = <-sendErr:
	default:
		if d, ok := stdin.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
			serr = <-sendErr
		}
	}
	out = sent.Load()
	switch {
	case interrupted || ctx.Err() != nil:
		return in, out, nil
	case rerr != nil:
		return in, out, rerr
	case serr != nil && !errors.Is(serr, os.ErrDeadlineExceeded):
		return in, out, localapi.Errorf(localapi.CodeInternal, "check what feeds stdin", "read stdin: %v", serr)
	}
	return in, out, nil
}

// sendStdin copies stdin to conn and half-closes conn at the end of stdin.
// It returns stdin's read error; a write error means the connection is
// gone, which the receiving side reports.
func sendStdin(conn net.Conn, stdin io.Reader, sent *atomic.Int64) error {
	buf := make([]byte, pipeBuffer)
	for {
		n, err := stdin.Read(buf)
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				return nil
			}
			sent.Add(int64(n))
		}
		if errors.Is(err, io.EOF) {
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// receive copies conn to stdout (raw, or as chunk envelopes with --json)
// until EOF, and returns the bytes received.
func (a *app) receive(conn net.Conn) (int64, error) {
	buf := make([]byte, pipeBuffer)
	var total int64
	var held []byte // --json: the start of a UTF-8 sequence cut by the read
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			total += int64(n)
			if a.json() {
				var werr error
				if held, werr = a.emitChunks(held, buf[:n]); werr != nil {
					return total, werr
				}
			} else if _, werr := a.stdout.Write(buf[:n]); werr != nil {
				return total, localapi.Errorf(localapi.CodeInternal, "is stdout closed?", "write output: %v", werr)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if len(held) > 0 {
					if err := a.writeOK(chunkOf(held)); err != nil {
						return total, err
					}
				}
				return total, nil
			}
			return total, localapi.Errorf(localapi.CodeConnectionFailed, "the remote agent or the daemon went away",
				"stream broken after %d bytes: %v", total, err)
		}
	}
}

// emitChunks prints held+b as one chunk envelope, holding back a UTF-8
// sequence cut at the end of b (at most 3 bytes) when the rest is text, so
// that text split across reads stays text. It returns the bytes held back.
func (a *app) emitChunks(held, b []byte) ([]byte, error) {
	data := append(held, b...)
	keep := incompleteSuffix(data)
	if keep > 0 && utf8.Valid(data[:len(data)-keep]) {
		rest := append([]byte(nil), data[len(data)-keep:]...)
		if len(data) == keep {
			return rest, nil
		}
		return rest, a.writeOK(chunkOf(data[:len(data)-keep]))
	}
	return nil, a.writeOK(chunkOf(data))
}

// incompleteSuffix returns the length of a UTF-8 sequence that starts
// within the last 3 bytes of b and is cut short, or 0.
func incompleteSuffix(b []byte) int {
	for i := 1; i <= 3 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return 0 // ASCII: nothing cut
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(b[len(b)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}

// chunkOf is the envelope data of received bytes.
func chunkOf(b []byte) pipeChunk {
	s := string(b)
	if !utf8.ValidString(s) || strings.HasPrefix(s, "base64:") {
		s = "base64:" + base64.StdEncoding.EncodeToString(b)
	}
	return pipeChunk{Data: s, Bytes: len(b)}
}

// isTerminal reports whether r is an interactive terminal, whose reads
// only end when the user ends them.
func isTerminal(r io.Reader) bool { return isCharDevice(r) }

// isCharDevice reports whether v is an *os.File open on a character
// device: an interactive terminal.
func isCharDevice(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// drainIdle is how long piped stdin may stay silent after the remote has
// finished before the pipe gives up on it.
const drainIdle = 500 * time.Millisecond

// waitDrained waits for the stdin sender to finish while it makes
// progress; the sender's result is put back for the caller.
func waitDrained(ctx context.Context, sendErr chan error, sent *atomic.Int64) {
	t := time.NewTicker(drainIdle)
	defer t.Stop()
	last := sent.Load()
	for {
		select {
		case err := <-sendErr:
			sendErr <- err
			return
		case <-ctx.Done():
			return
		case <-t.C:
			now := sent.Load()
			if now == last {
				return
			}
			last = now
		}
	}
}
