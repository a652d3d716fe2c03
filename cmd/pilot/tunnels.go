package main

import (
	"context"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newExposeCmd(a *app) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "expose <port> --to HOST:PORT",
		Short: "Serve a local TCP service on a Pilot port (tunnel, server side)",
		Long: `Open the Pilot port and carry every stream that arrives on it to a new TCP
connection to --to (usually a service on loopback, like an MCP or A2A HTTP
server). The port follows the port policy: private (trusted agents only)
unless made public with ` + "`pilot port public`" + `. The tunnel lives as long as the
daemon; ` + "`pilot tunnel close <id>`" + ` closes it.`,
		Example:     "  pilot expose 8080 --to 127.0.0.1:8080\n  pilot expose 8080 --to localhost:3000 --json",
		Annotations: daemonAnnotations("port: Pilot port to serve on, 1 to 65535", localapi.Tunnel{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			port, err := parsePort("port", args[0], false)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("to") {
				return usageError(cmd, "--to HOST:PORT is required: the local service to expose")
			}
			target, err := parseHostPort("--to", to, false)
			if err != nil {
				return err
			}
			req := localapi.ExposeRequest{Port: port, To: target}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Tunnel, error) {
				return c.Expose(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTunnel(w, v) })
		}),
	}
	cmd.Flags().StringVar(&to, "to", "", "the local TCP service, HOST:PORT (required)")
	return cmd
}

func newForwardCmd(a *app) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "forward LOCAL_HOST:PORT --to <addr|hostname>:<port>",
		Short: "Carry local TCP connections to an agent's Pilot port (tunnel, client side)",
		Long: `Listen on the local TCP address (loopback only; port 0 picks a free port,
shown in "local") and carry every connection to the agent's Pilot port, where
` + "`pilot expose`" + ` (or any service speaking raw bytes) answers. The tunnel lives
as long as the daemon; ` + "`pilot tunnel close <id>`" + ` closes it.`,
		Example:     "  pilot forward 127.0.0.1:9000 --to 3f2a.91c0.7d14:8080\n  pilot forward 127.0.0.1:0 --to my-agent:8080 --json",
		Annotations: daemonAnnotations("listen: local TCP address to listen on, like 127.0.0.1:9000", localapi.Tunnel{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			listen, err := parseHostPort("listen address", args[0], true)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("to") {
				return usageError(cmd, "--to <addr|hostname>:<port> is required: the agent's port to reach")
			}
			target, port, err := parseTargetPort("--to", to)
			if err != nil {
				return err
			}
			req := localapi.ForwardRequest{Listen: listen, To: target + ":" + strconv.Itoa(int(port))}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Tunnel, error) {
				return c.Forward(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTunnel(w, v) })
		}),
	}
	cmd.Flags().StringVar(&to, "to", "", "the agent's Pilot port, <addr|hostname>:<port> (required)")
	return cmd
}

func newTunnelsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "tunnels",
		Short:       "List the tunnels (expose and forward) with their counters",
		Example:     "  pilot tunnels\n  pilot tunnels --json",
		Annotations: daemonAnnotations("", localapi.TunnelList{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Tunnels)
			if err != nil {
				return err
			}
			if v.Tunnels == nil {
				v.Tunnels = []localapi.Tunnel{}
			}
			return a.emit(v, func(w io.Writer) { writeTunnels(w, v) })
		}),
	}
}

func newTunnelCmd(a *app) *cobra.Command {
	closeCmd := &cobra.Command{
		Use:         "close <id>",
		Short:       "Close a tunnel: its listener and its open connections",
		Example:     "  pilot tunnel close t1\n  pilot tunnel close t1 --json",
		Annotations: daemonAnnotations("id: tunnel ID, as listed by `pilot tunnels`", localapi.Tunnel{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			id := args[0]
			if id == "" {
				return usageError(cmd, "the tunnel ID is empty")
			}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Tunnel, error) {
				return c.CloseTunnel(ctx, id)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTunnel(w, v) })
		}),
	}
	return newGroupCmd(a, "tunnel", "Manage one tunnel", "  pilot tunnel close t1", closeCmd)
}
