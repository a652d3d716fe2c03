package main

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/localapi"
)

// defaultTimeout bounds every call to the daemon unless --timeout says
// otherwise.
const defaultTimeout = 30 * time.Second

// Ping limits and the time budget per ping when --timeout is 0 (auto).
const (
	defaultPingCount = 3
	maxPingCount     = 1000
	perPingBudget    = time.Second
)

// daemonAnnotations returns the annotations of a command that calls the
// daemon and prints data of type T.
func daemonAnnotations(args string, data any) map[string]string {
	return map[string]string{annArgs: args, annOutput: fieldList(data), annDaemon: "required"}
}

// call runs f against the daemon of a's home with a deadline of timeout,
// and returns its errors as *localapi.Error (timeouts with a useful hint).
func call[T any](ctx context.Context, a *app, timeout time.Duration, f func(*localapi.Client, context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c := localapi.NewClient(a.socket())
	defer c.Close()
	v, err := f(c, ctx)
	if err == nil {
		return v, nil
	}
	e := localapi.AsError(err)
	if e.Code == localapi.CodeTimeout && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		e = localapi.Errorf(localapi.CodeTimeout, "raise --timeout, or check connectivity with `pilot status`",
			"no answer from the daemon within %s", timeout)
	}
	return v, e
}

// parseAddr validates a pilot address argument client-side and returns its
// canonical form.
func parseAddr(s string) (string, error) {
	addr, err := addressing.Parse(s)
	if err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument,
			"a pilot address is 12 hex digits in three groups, like 3f2a.91c0.7d14", "%v", err)
	}
	return addr.String(), nil
}

// checkTimeout rejects a negative --timeout.
func checkTimeout(cmd *cobra.Command, d time.Duration) error {
	if d < 0 {
		return usageError(cmd, "--timeout must not be negative, got %s", d)
	}
	return nil
}

func newIDCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "id",
		Short:       "Print this node's address and peer ID",
		Example:     "  pilot id\n  pilot id --json",
		Annotations: daemonAnnotations("", localapi.Identity{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Identity)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeIdentity(w, v) })
		}),
	}
}

func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "status",
		Short:       "Show the daemon's identity, addresses, reachability and DHT state",
		Example:     "  pilot status\n  pilot status --json",
		Annotations: daemonAnnotations("", localapi.Status{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Status)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeStatus(w, v) })
		}),
	}
}

func newResolveCmd(a *app) *cobra.Command {
	timeout := defaultTimeout
	cmd := &cobra.Command{
		Use:   "resolve <addr>",
		Short: "Look up an address in the DHT: its peer ID and network addresses",
		Long: `Look up the signed record of a pilot address in the DHT and print the peer ID
and multiaddrs it announces. "pinned" is true when the peer ID hashes to the
address. Fails with not_found when nobody holds the address.`,
		Example:     "  pilot resolve 3f2a.91c0.7d14\n  pilot resolve 3f2a.91c0.7d14 --json --timeout 10s",
		Annotations: daemonAnnotations("addr: pilot address to look up, like 3f2a.91c0.7d14", localapi.Resolved{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddr(args[0])
			if err != nil {
				return err
			}
			if err := checkTimeout(cmd, timeout); err != nil {
				return err
			}
			if timeout == 0 {
				timeout = defaultTimeout
			}
			v, err := call(cmd.Context(), a, timeout, func(c *localapi.Client, ctx context.Context) (localapi.Resolved, error) {
				return c.Resolve(ctx, addr)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeResolved(w, v) })
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", timeout, "give up after this long (0: the default)")
	return cmd
}

func newPingCmd(a *app) *cobra.Command {
	var timeout time.Duration
	count := defaultPingCount
	cmd := &cobra.Command{
		Use:   "ping <addr>",
		Short: "Resolve an address (or hostname) and measure round-trip times to it",
		Long: `Resolve the address, connect (directly, hole-punched or through a relay) and
send --count echo pings over the session, one after another. Prints each
round-trip time, a summary and the path the session took.`,
		Example:     "  pilot ping 3f2a.91c0.7d14\n  pilot ping 3f2a.91c0.7d14 --count 10 --json",
		Annotations: daemonAnnotations("addr: pilot address or hostname to ping, like 3f2a.91c0.7d14", localapi.PingResult{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			addr, err := localapi.ParseTarget(args[0])
			if err != nil {
				return err
			}
			if count < 1 || count > maxPingCount {
				return usageError(cmd, "--count must be between 1 and %d, got %d", maxPingCount, count)
			}
			if err := checkTimeout(cmd, timeout); err != nil {
				return err
			}
			if timeout == 0 {
				timeout = defaultTimeout + time.Duration(count)*perPingBudget
			}
			req := localapi.PingRequest{Address: addr, Count: count}
			v, err := call(cmd.Context(), a, timeout, func(c *localapi.Client, ctx context.Context) (localapi.PingResult, error) {
				return c.Ping(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writePing(w, v) })
		}),
	}
	cmd.Flags().IntVar(&count, "count", count, "number of pings, 1 to 1000")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: 30s plus 1s per ping)")
	return cmd
}

func newPeersCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "peers",
		Short:       "List the peers this node is connected to",
		Example:     "  pilot peers\n  pilot peers --json",
		Annotations: daemonAnnotations("", localapi.Peers{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Peers)
			if err != nil {
				return err
			}
			if v.Peers == nil {
				v.Peers = []localapi.Peer{}
			}
			return a.emit(v, func(w io.Writer) { writePeers(w, v) })
		}),
	}
}
