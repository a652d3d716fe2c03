package main

import (
	"fmt"
	"path/filepath"
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
	// annLongRunning is "true" when the command runs until a signal.
	annLongRunning = "long_running"
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
		newUpCmd(a),
		newIDCmd(a),
		newStatusCmd(a),
		newResolveCmd(a),
		newPingCmd(a),
		newPeersCmd(a),
		newUnpinCmd(a),
		newContextCmd(a),
	)
	for _, c := range root.Commands() {
		if c.Args == nil {
			c.Args = annotatedArgs
		}
	}
	return root
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

// argSpec is one positional argument, from the args annotation.
type argSpec struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// argSpecs parses cmd's args annotation.
func argSpecs(cmd *cobra.Command) []argSpec {
	var out []argSpec
	for part := range strings.SplitSeq(cmd.Annotations[annArgs], ";") {
		name, desc, _ := strings.Cut(part, ":")
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, argSpec{name, strings.TrimSpace(desc)})
		}
	}
	return out
}

// annotatedArgs checks that the positional arguments match the args
// annotation exactly.
func annotatedArgs(cmd *cobra.Command, args []string) error {
	want := argSpecs(cmd)
	if len(args) == len(want) {
		return nil
	}
	if len(want) == 0 {
		return usageError(cmd, "%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	names := make([]string, len(want))
	for i, s := range want {
		names[i] = "<" + s.Name + ">"
	}
	return usageError(cmd, "%s takes %d %s (%s), got %d", cmd.CommandPath(), len(want),
		plural(len(want), "argument", "arguments"), strings.Join(names, " "), len(args))
}
