package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/mcp"
)

func newMCPCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "Serve this node's daemon to AI models as an MCP server over stdio",
		Long: `Run a Model Context Protocol (MCP) server on stdin and stdout, for an MCP
client such as Claude Desktop, Claude Code, Cursor or VS Code to start as a
subprocess. Its tools (pilot_status, pilot_resolve, pilot_find, pilot_send,
pilot_inbox, pilot_publish, pilot_trust_request, pilot_trust_pending,
pilot_trust_approve, pilot_trust_reject, pilot_task_submit, pilot_task_list,
pilot_task_result, pilot_polo) call the daemon of --home, which ` + "`pilot up`" + `
runs; without one they fail with not_running. A tool's result is the data
the matching command prints with --json; a failure carries the same code and
hint. stdout carries only MCP messages; logs go to stderr. It runs until the
client closes stdin. --json does not apply (stdout is the MCP stream), except
with --help. See docs/mcp.md.`,
		Example:     "  pilot mcp\n  pilot mcp --home ~/.pilot-work\n  claude mcp add pilot -- pilot mcp",
		Annotations: map[string]string{annArgs: "", annDaemon: "required", annLongRunning: "true"},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if a.json() {
				return usageError(cmd, "pilot mcp speaks MCP on stdout; --json applies only with --help")
			}
			log := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			c := localapi.NewClient(a.socket())
			defer c.Close()
			warnIfNotRunning(cmd.Context(), c, log)
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			// No SDK log: the errors it would log end the command, which reports them.
			err := mcp.Serve(ctx, c, mcp.Options{Version: node.Version}, a.stdin, a.stdout)
			if err != nil && ctx.Err() == nil {
				return localapi.Errorf(localapi.CodeInternal, "the MCP client closed the connection or sent a malformed message; see its log",
					"pilot mcp: %v", err)
			}
			return nil
		}),
	}
}

// warnIfNotRunning logs, once at start, that no daemon answers: the
// server still runs, and its tools report not_running until one does.
func warnIfNotRunning(ctx context.Context, c *localapi.Client, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := c.Status(ctx)
	var e *localapi.Error
	if errors.As(err, &e) && e.Code == localapi.CodeNotRunning {
		log.Warn("no pilot daemon is running; the tools fail with not_running until `pilot up` runs", "error", e.Message)
	}
}
