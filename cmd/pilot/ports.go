package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newPortCmd(a *app) *cobra.Command {
	return newGroupCmd(a, "port", "Make a port public (any agent) or private (trusted agents only)",
		"  pilot port public 8080\n  pilot port private 8080",
		newPortPolicyCmd(a, true), newPortPolicyCmd(a, false))
}

// newPortPolicyCmd builds `pilot port public <n>` and `pilot port private <n>`.
func newPortPolicyCmd(a *app, public bool) *cobra.Command {
	name, short, long := "private", "Make a port private: only trusted agents reach it",
		`Make the port private: only agents this node trusts can open streams to it.
Every port is private unless made public.`
	if public {
		name, short, long = "public", "Make a port public: any agent reaches it, trusted or not",
			`Make the port public: any agent can open streams to it, trusted or not. Do it
only for a service meant for the world. The public ports are listed in this
node's published profile.`
	}
	return &cobra.Command{
		Use:         name + " <port>",
		Short:       short,
		Long:        long,
		Example:     "  pilot port " + name + " 8080\n  pilot port " + name + " 1001 --json",
		Annotations: daemonAnnotations("port: port number, 1 to 65535", localapi.PortInfo{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			port, err := parsePort("port", args[0], false)
			if err != nil {
				return err
			}
			req := localapi.PortPolicyRequest{Port: port, Public: public}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.PortInfo, error) {
				return c.SetPortPolicy(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				writeKV(w, []kv{{"port", v.Port}, {"public", v.Public}, {"listening", v.Listening}, {"service", v.Service}})
			})
		}),
	}
}

func newPortsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ports",
		Short: "List this node's open and public ports",
		Long: `List every port that is listening or public: whether it is public (any agent)
or private (trusted agents only), whether something listens on it, and the
built-in service behind it (echo 7, trust 444, stdio 1000, data exchange
1001, event stream 1002, tasks 1003).`,
		Example:     "  pilot ports\n  pilot ports --json",
		Annotations: daemonAnnotations("", localapi.PortList{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Ports)
			if err != nil {
				return err
			}
			if v.Ports == nil {
				v.Ports = []localapi.PortInfo{}
			}
			return a.emit(v, func(w io.Writer) { writePorts(w, v) })
		}),
	}
}
