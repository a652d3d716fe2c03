package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

// Annotation keys every command sets; `pilot context` reads them.
const (
	// annArgs lists the positional arguments: "name: description", several
	// separated by ";". It also drives argument-count validation.
	annArgs = "args"
	// annOutput is the comma-separated list of JSON data fields.
	annOutput = "output"
	// annDaemon is "required" when the command talks to a running daemon.
	annDaemon = "daemon"
	// annLongRunning is "true" when the command runs until a signal (or,
	// for connect and listen, until the remote side closes).
	annLongRunning = "long_running"
	// annStreaming is "true" when, with --json, the command prints one
	// ok-envelope line per item (NDJSON) instead of exactly one line.
	annStreaming = "streaming"
	// annGroup is "true" on a command that only groups subcommands (trust,
	// port, tunnel); the catalogue lists its subcommands, not it.
	annGroup = "group"
)

// newRootCmd builds the whole command tree for one run.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "pilot",
		Short: "Permanent addresses and encrypted sessions for AI agents, on libp2p",
		Long: `Pilot gives every agent a permanent 48-bit address derived from its own key
(like 3f2a.91c0.7d14), found through a private Kademlia DHT, with no central
server. ` + "`pilot up`" + ` runs the node as a daemon; the other commands talk to
it over the Unix socket <home>/pilot.sock.

Every command takes --json: one line {"status":"ok","data":{...}} on stdout
on success, {"status":"error","code":...,"message":...,"hint":...} on stderr
and a non-zero exit on failure. ` + "`pilot context`" + ` prints the command
catalogue as JSON, for agents.`,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
		SilenceErrors:              true,
		Args:                       rootArgs,
		CompletionOptions:          cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: runE(func(cmd *cobra.Command, _ []string) error {
			if a.home == "" {
				return usageError(cmd, "--home must not be empty")
			}
			abs, err := filepath.Abs(a.home)
			if err != nil {
				return usageError(cmd, "--home %q: %v", a.home, err)
			}
			a.home = abs
			return nil
		}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if a.json() {
				return usageError(cmd, "no command given")
			}
			return cmd.Help()
		}),
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.home, "home", node.DefaultHome(), "data folder of the node: identity.key, store/ and pilot.sock live here ($PILOT_HOME, else ~/.pilot)")
	pf.BoolVar(&a.jsonFlag, "json", false, "print one JSON envelope: ok on stdout, error on stderr")

	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(c, "%s", err.Error())
	})
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		if !a.json() {
			defaultHelp(c, args)
			return
		}
		if c == root {
			_ = a.writeOK(buildCatalogue(root))
		} else {
			_ = a.writeOK(describeCommand(c))
		}
	})

	root.AddCommand(
		newTestnetCmd(a),
		newBenchCmd(a),
		newUpCmd(a),
		newIDCmd(a),
		newStatusCmd(a),
		newResolveCmd(a),
		newPingCmd(a),
		newPeersCmd(a),
		newUnpinCmd(a),
		newContextCmd(a),
		newEchoCmd(a),
		newSendCmd(a),
		newInboxCmd(a),
		newPublishCmd(a),
		newSubscribeCmd(a),
		newEventsCmd(a),
		newTrustCmd(a),
		newPortCmd(a),
		newPortsCmd(a),
		newExposeCmd(a),
		newForwardCmd(a),
		newTunnelsCmd(a),
		newTunnelCmd(a),
		newA2ACmd(a),
		newListenCmd(a),
		newConnectCmd(a),
		newSetHostnameCmd(a),
		newSetTagsCmd(a),
		newFindCmd(a),
		newSwarmCmd(a),
		newBootstrapCmd(a),
		newInitCmd(a),
		newTaskCmd(a),
		newPoloCmd(a),
		newDoctorCmd(a),
		newMCPCmd(a),
	)
	var setArgs func(*cobra.Command)
	setArgs = func(p *cobra.Command) {
		for _, c := range p.Commands() {
			if c.Args == nil {
				if c.HasSubCommands() {
					c.Args = rootArgs // no positional arguments, only subcommands
				} else {
					c.Args = annotatedArgs
				}
			}
			setArgs(c)
		}
	}
	setArgs(root)
	return root
}

// newGroupCmd returns a command that only groups subs. Alone it prints its
// help, or with --json fails with invalid_argument like `pilot --json`.
func newGroupCmd(a *app, use, short, example string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:         use,
		Short:       short,
		Example:     example,
		Annotations: map[string]string{annGroup: "true"},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if a.json() {
				var names []string
				for _, c := range cmd.Commands() {
					names = append(names, c.Name())
				}
				return usageError(cmd, "%s needs a subcommand: %s", cmd.CommandPath(), strings.Join(names, ", "))
			}
			return cmd.Help()
		}),
	}
	cmd.AddCommand(subs...)
	return cmd
}

// runE wraps a command body so that every error it returns is a
// *localapi.Error; asCLIError relies on this to tell cobra's own usage
// errors apart.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := f(cmd, args); err != nil {
			return localapi.AsError(err)
		}
		return nil
	}
}

// rootArgs rejects unknown commands, with cobra's suggestions.
func rootArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError(cmd, "%s", msg)
}

// argSpec is one positional argument, from the args annotation. A name
// written with a trailing "?" in the annotation ("text?: …") is optional;
// optional arguments come last.
type argSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Optional    bool   `json:"optional,omitempty"`
}

// argSpecs parses cmd's args annotation.
func argSpecs(cmd *cobra.Command) []argSpec {
	var out []argSpec
	for part := range strings.SplitSeq(cmd.Annotations[annArgs], ";") {
		name, desc, _ := strings.Cut(part, ":")
		if name = strings.TrimSpace(name); name != "" {
			name, opt := strings.CutSuffix(name, "?")
			out = append(out, argSpec{name, strings.TrimSpace(desc), opt})
		}
	}
	return out
}

// annotatedArgs checks that the positional arguments match the args
// annotation: every required one, and at most the optional ones.
func annotatedArgs(cmd *cobra.Command, args []string) error {
	want := argSpecs(cmd)
	required := 0
	for _, s := range want {
		if !s.Optional {
			required++
		}
	}
	if len(args) >= required && len(args) <= len(want) {
		return nil
	}
	if len(want) == 0 {
		return usageError(cmd, "%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	names := make([]string, len(want))
	for i, s := range want {
		names[i] = "<" + s.Name + ">"
		if s.Optional {
			names[i] = "[" + s.Name + "]"
		}
	}
	count := strconv.Itoa(len(want))
	if required < len(want) {
		count = fmt.Sprintf("%d to %d", required, len(want))
	}
	return usageError(cmd, "%s takes %s %s (%s), got %d", cmd.CommandPath(), count,
		plural(len(want), "argument", "arguments"), strings.Join(names, " "), len(args))
}
