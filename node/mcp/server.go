package mcp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/node/localapi"
)

// Daemon is the part of the local API the tools call; *localapi.Client
// implements it.
type Daemon interface {
	Status(ctx context.Context) (localapi.Status, error)
	Resolve(ctx context.Context, address string) (localapi.Resolved, error)
	Find(ctx context.Context, req localapi.FindRequest) (localapi.FindResult, error)
	Send(ctx context.Context, req localapi.SendRequest) (localapi.SendResult, error)
	Inbox(ctx context.Context) (localapi.InboxList, error)
	InboxGet(ctx context.Context, id string) (localapi.InboxMessage, error)
	Publish(ctx context.Context, req localapi.PublishRequest) (localapi.Published, error)
	Trust(ctx context.Context, req localapi.TrustRequest) (localapi.TrustRecord, error)
	TrustList(ctx context.Context, pendingOnly bool) (localapi.TrustList, error)
	TaskSubmit(ctx context.Context, req localapi.TaskSubmitRequest) (localapi.TaskInfo, error)
	TaskList(ctx context.Context) (localapi.TaskList, error)
	TaskGet(ctx context.Context, id string) (localapi.TaskInfo, error)
	Polo(ctx context.Context, address string) (localapi.PoloInfo, error)
}

var _ Daemon = (*localapi.Client)(nil)

// defaultTimeout bounds every call to the daemon, as the CLI's default
// --timeout does, unless a tool says otherwise.
const defaultTimeout = 30 * time.Second

// Options configure a server.
type Options struct {
	// Version is reported to clients as the server's version.
	Version string
	// Logger receives the SDK's log; nil logs nothing. It must not write
	// to the transport's stream (stdout for stdio).
	Logger *slog.Logger
}

// instructions tell the model what the server is for.
const instructions = `Pilot gives this machine's AI agent a permanent address (like 3f2a.91c0.7d14) on a peer-to-peer mesh of agents. ` +
	`Use these tools to check the local node (pilot_status), find agents by hostname or tag (pilot_find, pilot_resolve), ` +
	`exchange messages (pilot_send, pilot_inbox, pilot_publish), manage mutual trust (pilot_trust_*), ` +
	`delegate work (pilot_task_*) and read reputation (pilot_polo). Most agents accept messages and tasks only from agents they trust: ` +
	`request trust first. Errors carry a code and a hint saying what to do next.`

// NewServer returns an MCP server whose tools call d.
func NewServer(d Daemon, opts Options) *sdk.Server {
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "pilot", Title: "Pilot", Version: opts.Version},
		&sdk.ServerOptions{Instructions: instructions, Logger: opts.Logger})
	t := tools{d: d}
	t.addNodeTools(s)
	t.addMessagingTools(s)
	t.addTrustTools(s)
	t.addTaskTools(s)
	return s
}

// maxFrame bounds one JSON-RPC message read from the client: the largest
// tool arguments (maxArguments) and their envelope.
const maxFrame = maxArguments + 64<<10

// Serve runs an MCP server for d over r and w - newline-delimited
// JSON-RPC, stdin and stdout in `pilot mcp` - until r ends (nil) or ctx
// ends (ctx.Err()). Nothing but MCP messages is written to w.
func Serve(ctx context.Context, d Daemon, opts Options, r io.Reader, w io.Writer) error {
	t := &sdk.IOTransport{Reader: io.NopCloser(r), Writer: nopCloser{w}, MaxLineLength: maxFrame}
	err := NewServer(d, opts).Run(ctx, t)
	if err != nil && ctx.Err() == nil && errors.Is(err, io.EOF) {
		return nil // the client closed the stream: a normal end
	}
	return err
}

// nopCloser is w with a Close that does nothing: the caller owns w.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// tools holds what the tool handlers share.
type tools struct{ d Daemon }

// call runs f with a deadline of timeout and returns its errors as
// *localapi.Error, turning the deadline into a timeout with a useful hint.
func call[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := f(ctx)
	if err == nil {
		return v, nil
	}
	e := localapi.AsError(err)
	if e.Code == localapi.CodeTimeout && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e = localapi.Errorf(localapi.CodeTimeout, "raise timeout_seconds where the tool has it, or check connectivity with pilot_status",
			"no answer from the daemon within %s", timeout)
	}
	return v, e
}

// timeoutOf reads a timeout_seconds input: 0 is defaultTimeout, otherwise
// 1 to maxSec seconds.
func timeoutOf(sec, maxSec int) (time.Duration, error) {
	if sec == 0 {
		return defaultTimeout, nil
	}
	if err := checkRange("timeout_seconds", sec, 1, maxSec); err != nil {
		return 0, err
	}
	return time.Duration(sec) * time.Second, nil
}
