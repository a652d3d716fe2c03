package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// streamingAnnotations returns the annotations of a command that talks to
// the daemon, runs until interrupted and prints one item per line.
func streamingAnnotations(args string, data any) map[string]string {
	m := daemonAnnotations(args, data)
	m[annLongRunning] = "true"
	m[annStreaming] = "true"
	return m
}

// signalContext returns a context that ends with ctx or on SIGINT or
// SIGTERM: the long-running client commands stop cleanly (exit 0) then.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// errEnough stops a stream once --count items arrived.
var errEnough = errors.New("enough items")

// follow runs one streaming call and prints every item as it arrives (one
// ok-envelope line each with --json, else text). It ends after count items
// (0: no limit) or on SIGINT/SIGTERM, both a success; a stream the daemon
// ends, with an error or without, is a failure.
func follow[T any](cmd *cobra.Command, a *app, what string, count int,
	open func(ctx context.Context, c *localapi.Client, emit func(T) error) error, text func(io.Writer, T)) error {
	ctx, stop := signalContext(cmd.Context())
	defer stop()
	c := localapi.NewClient(a.socket())
	defer c.Close()
	n := 0
	err := open(ctx, c, func(v T) error {
		if err := a.emit(v, func(w io.Writer) { text(w, v) }); err != nil {
			return err
		}
		n++
		if count > 0 && n >= count {
			return errEnough
		}
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
		return nil
	case ctx.Err() != nil:
		return nil // interrupted: the normal way to end
	case err != nil:
		return err
	}
	return localapi.Errorf(localapi.CodeInternal, "the daemon may have stopped; check it with `pilot status`",
		"the daemon ended the %s stream after %d %s", what, n, plural(n, "item", "items"))
}

// countFlag adds --count to a streaming command.
func countFlag(cmd *cobra.Command, count *int, what string) {
	cmd.Flags().IntVar(count, "count", 0, "stop after this many "+what+" (0: until SIGINT or SIGTERM)")
}

// checkCount rejects a negative --count.
func checkCount(cmd *cobra.Command, count int) error {
	if count < 0 {
		return usageError(cmd, "--count must not be negative, got %d", count)
	}
	return nil
}

func newSubscribeCmd(a *app) *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "subscribe <topic>",
		Short: "Print the messages published on a network-wide topic, as they arrive",
		Long: `Subscribe to the topic (port 1002, gossipsub) and print every message
published on it by any agent, as it arrives, until --count messages arrived
or SIGINT/SIGTERM (exit 0). Text: one "[from_address] data" line per
message. --json: one ok-envelope line per message (NDJSON), written as it
arrives. Data that is not UTF-8 is shown as "base64:" and its base64.

If the daemon ends the stream (it stopped, or failed), the error goes to
stderr (an error envelope with --json) and the exit code is non-zero.`,
		Example:     "  pilot subscribe weather\n  pilot subscribe jobs.new --json --count 1",
		Annotations: streamingAnnotations("topic: topic name, 1 to 64 characters a-z, 0-9, '.', '_', '-'", localapi.TopicEvent{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			topic, err := parseTopic(args[0])
			if err != nil {
				return err
			}
			if err := checkCount(cmd, count); err != nil {
				return err
			}
			return follow(cmd, a, "subscription", count,
				func(ctx context.Context, c *localapi.Client, emit func(localapi.TopicEvent) error) error {
					return c.Subscribe(ctx, topic, count, emit)
				}, writeTopicEvent)
		}),
	}
	countFlag(cmd, &count, "messages")
	return cmd
}

func newEventsCmd(a *app) *cobra.Command {
	var count int
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print this node's local events (trust requests, messages, connections) as they happen",
		Long: `Stream what the daemon sees — trust requests and decisions, inbox messages,
peers connecting and disconnecting — until --count events or SIGINT/SIGTERM
(exit 0). Text: one "at kind address detail" line per event, detail as
key=value pairs. --json: one ok-envelope line per event (NDJSON), written as
it happens. An agent reacts to its node by reading this stream.`,
		Example:     "  pilot events\n  pilot events --json\n  pilot events --json --count 1",
		Annotations: streamingAnnotations("", localapi.LocalEvent{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkCount(cmd, count); err != nil {
				return err
			}
			return follow(cmd, a, "event", count,
				func(ctx context.Context, c *localapi.Client, emit func(localapi.LocalEvent) error) error {
					return c.Events(ctx, emit)
				}, writeLocalEvent)
		}),
	}
	countFlag(cmd, &count, "events")
	return cmd
}

// writeTopicEvent prints "[from_address] data".
func writeTopicEvent(w io.Writer, e localapi.TopicEvent) {
	from := e.FromAddr
	if from == "" {
		from = e.From
	}
	fmt.Fprintf(w, "[%s] %s\n", from, e.Data)
}

// writeLocalEvent prints "at kind address k=v ...": detail sorted by key,
// empty values left out, values quoted when they would not read as one
// word.
func writeLocalEvent(w io.Writer, e localapi.LocalEvent) {
	addr := e.Address
	if addr == "" {
		addr = "-"
	}
	parts := []string{e.At, e.Kind, addr}
	for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
		v := e.Detail[k]
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, " \t\n\"=") || !strconv.CanBackquote(v) {
			v = strconv.Quote(v)
		}
		parts = append(parts, k+"="+v)
	}
	fmt.Fprintln(w, strings.Join(parts, " "))
}
