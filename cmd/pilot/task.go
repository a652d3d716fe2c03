package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// defaultTaskTimeout is a submitted task's deadline when --timeout is not
// given.
const defaultTaskTimeout = 5 * time.Minute

// maxTaskInput bounds what --input reads (the service refuses more).
const maxTaskInput = 256 << 10

func newTaskCmd(a *app) *cobra.Command {
	return newGroupCmd(a, "task", "Submit tasks to agents and work on tasks (port 1003)",
		"  pilot task submit my-agent --type summarise --input '{\"url\":\"https://example.com\"}' --wait\n  pilot task list\n  pilot task accept 3b9f…",
		newTaskSubmitCmd(a), newTaskListCmd(a), newTaskResultCmd(a),
		newTaskActionCmd(a, "accept", "Accept a submitted task (worker); then finish it with `pilot task complete`"),
		newTaskActionCmd(a, "decline", "Decline a submitted task (worker)"),
		newTaskActionCmd(a, "cancel", "Cancel a task you submitted or are working on"),
		newTaskCompleteCmd(a))
}

// readJSONArg reads a JSON value given inline or as @file, and checks it.
func readJSONArg(cmd *cobra.Command, flag, s string) (json.RawMessage, error) {
	b := []byte(s)
	if name, ok := strings.CutPrefix(s, "@"); ok {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageError(cmd, "--%s %s: %v", flag, s, err)
		}
		defer f.Close()
		if b, err = io.ReadAll(io.LimitReader(f, maxTaskInput+1)); err != nil {
			return nil, usageError(cmd, "--%s %s: %v", flag, s, err)
		}
	}
	if len(b) > maxTaskInput {
		return nil, usageError(cmd, "--%s: over %d KiB", flag, maxTaskInput>>10)
	}
	if !json.Valid(b) {
		return nil, usageError(cmd, "--%s is not valid JSON (quote strings: '\"text\"')", flag)
	}
	return json.RawMessage(b), nil
}

func newTaskSubmitCmd(a *app) *cobra.Command {
	var typ, input string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "submit <addr|hostname>",
		Short: "Submit a task to an agent (it must admit you: trust, or enough Polo)",
		Long: `Send a task - a type and a JSON input - to the agent's task port (1003). The
agent admits it only if it trusts you or your Polo score in its view reaches
its minimum; then its operator or its --task-handler runs it. --timeout is
the task's deadline (default 5m): unfinished by then, it expires on both
sides. With --wait the command returns when the task has ended, with the
result; without, at once with the submitted task. When it ends, you sign
an attestation of the outcome that feeds the worker's Polo (docs/polo.md).`,
		Example:     "  pilot task submit my-agent --type summarise --input '{\"url\":\"https://example.com\"}' --wait\n  pilot task submit 3f2a.91c0.7d14 --type render --input @job.json --timeout 10m --json",
		Annotations: daemonAnnotations("target: the worker's pilot address or hostname", localapi.TaskInfo{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target, err := localapi.ParseTarget(args[0])
			if err != nil {
				return err
			}
			if typ == "" {
				return usageError(cmd, "--type is required")
			}
			body, err := readJSONArg(cmd, "input", input)
			if err != nil {
				return err
			}
			if timeout, err = effectiveTimeout(cmd, timeout, defaultTaskTimeout); err != nil {
				return err
			}
			req := localapi.TaskSubmitRequest{To: target, Type: typ, Input: body, TimeoutMs: timeout.Milliseconds(), Wait: wait}
			callTimeout := defaultTimeout
			if wait {
				callTimeout = timeout + defaultTimeout
			}
			v, err := call(cmd.Context(), a, callTimeout, func(c *localapi.Client, ctx context.Context) (localapi.TaskInfo, error) {
				return c.TaskSubmit(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTask(w, v) })
		}),
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "task type, 1-64 characters a-z 0-9 . _ - (required)")
	f.StringVar(&input, "input", "null", "task input: a JSON value, or @FILE to read it from a file")
	f.BoolVar(&wait, "wait", false, "return when the task has ended, with its result")
	timeoutFlag(cmd, &timeout, "the task's deadline (0: 5m)")
	return cmd
}

func newTaskListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "list",
		Short:       "List the tasks you submitted and the tasks submitted to you",
		Example:     "  pilot task list\n  pilot task list --json",
		Annotations: daemonAnnotations("", localapi.TaskList{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).TaskList)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				if len(v.Tasks) == 0 {
					fmt.Fprintln(w, "no tasks")
					return
				}
				rows := make([][]string, 0, len(v.Tasks))
				for _, t := range v.Tasks {
					rows = append(rows, []string{t.ID, t.State, t.Role, t.Type, t.Peer, t.UpdatedAt.Local().Format(time.DateTime)})
				}
				writeTable(w, []string{"ID", "STATE", "ROLE", "TYPE", "PEER", "UPDATED"}, rows)
			})
		}),
	}
}

func newTaskResultCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "result <id>",
		Short:       "Show one task: state, result or error",
		Example:     "  pilot task result 3b9f0c2e5d1a47f8a9e6b1c2d3e4f5a6 --json",
		Annotations: daemonAnnotations("id: the task ID", localapi.TaskInfo{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.TaskInfo, error) {
				return c.TaskGet(ctx, args[0])
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTask(w, v) })
		}),
	}
}

func newTaskActionCmd(a *app, action, short string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:         action + " <id>",
		Short:       short,
		Example:     "  pilot task " + action + " 3b9f0c2e5d1a47f8a9e6b1c2d3e4f5a6",
		Annotations: daemonAnnotations("id: the task ID", localapi.TaskInfo{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			req := localapi.TaskActionRequest{ID: args[0], Action: action, Reason: reason}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.TaskInfo, error) {
				return c.TaskAction(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTask(w, v) })
		}),
	}
	if action == "decline" {
		cmd.Flags().StringVar(&reason, "reason", "", "why, for the requester")
	}
	return cmd
}

func newTaskCompleteCmd(a *app) *cobra.Command {
	var result, failure string
	cmd := &cobra.Command{
		Use:   "complete <id>",
		Short: "Finish an accepted task (worker): --result JSON for success, --error TEXT for failure",
		Long: `Finish a task you accepted: --result (a JSON value or @FILE) marks it
succeeded, --error marks it failed. Either way you sign a receipt that goes
back to the requester with the outcome.`,
		Example:     "  pilot task complete 3b9f… --result '{\"summary\":\"…\"}'\n  pilot task complete 3b9f… --error 'source unreachable'",
		Annotations: daemonAnnotations("id: the task ID", localapi.TaskInfo{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if (result == "") == (failure == "") {
				return usageError(cmd, "give exactly one of --result and --error")
			}
			req := localapi.TaskActionRequest{ID: args[0], Action: "complete", Error: failure}
			if result != "" {
				body, err := readJSONArg(cmd, "result", result)
				if err != nil {
					return err
				}
				req.Result = body
			}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.TaskInfo, error) {
				return c.TaskAction(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTask(w, v) })
		}),
	}
	cmd.Flags().StringVar(&result, "result", "", "the result: a JSON value, or @FILE")
	cmd.Flags().StringVar(&failure, "error", "", "the task failed: why")
	return cmd
}

func writeTask(w io.Writer, t localapi.TaskInfo) {
	rows := []kv{{"id", t.ID}, {"state", t.State}, {"role", t.Role}, {"type", t.Type}, {"peer", t.Peer}, {"deadline", t.Deadline.Local().Format(time.DateTime)}}
	if len(t.Result) > 0 {
		rows = append(rows, kv{"result", string(t.Result)})
	}
	if t.Error != "" {
		rows = append(rows, kv{"error", t.Error})
	}
	writeKV(w, rows)
}
