package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// bootstrapList is the data of every `pilot bootstrap` command.
type bootstrapList struct {
	File      string   `json:"file"`
	Bootstrap []string `json:"bootstrap"`
	Changed   bool     `json:"changed"` // add/rm: whether the file changed
}

func newBootstrapCmd(a *app) *cobra.Command {
	return newGroupCmd(a, "bootstrap", "Edit the bootstrap list in <home>/config.toml",
		"  pilot bootstrap list\n  pilot bootstrap add /ip4/203.0.113.7/tcp/4410/p2p/12D3KooW...\n  pilot bootstrap rm 12D3KooW...",
		newBootstrapListCmd(a), newBootstrapAddCmd(a), newBootstrapRmCmd(a))
}

func bootstrapAnnotations(args string) map[string]string {
	ann := map[string]string{annOutput: fieldList(bootstrapList{})}
	if args != "" {
		ann[annArgs] = args
	}
	return ann
}

func newBootstrapListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "Show the nodes this node joins the mesh through",
		Long: `Print the bootstrap list of <home>/config.toml. It needs no running daemon;
a running one read the file when it started.`,
		Example:     "  pilot bootstrap list --json",
		Annotations: bootstrapAnnotations(""),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			c, err := loadFileConfig(a.home)
			if err != nil {
				return configError(err)
			}
			return a.emitBootstrap(bootstrapList{File: configPath(a.home), Bootstrap: nonNilStrings(c.Bootstrap)})
		}),
	}
}

func newBootstrapAddCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "add <multiaddr>",
		Short: "Add a node to join the mesh through",
		Long: `Add a bootstrap node to <home>/config.toml (created as ` + "`pilot init`" + ` writes it,
mode 0600, when missing; other keys and comments are kept).
The address must end in /p2p/<peer-id>, as printed by the other node's
` + "`pilot up`" + ` or ` + "`pilot status`" + `. Adding one that is listed already
changes nothing. It takes effect at the next ` + "`pilot up`" + `.`,
		Example:     "  pilot bootstrap add /ip4/203.0.113.7/tcp/4410/p2p/12D3KooW...",
		Annotations: bootstrapAnnotations("multiaddr: address ending in /p2p/<peer-id>"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if err := checkBootstrapAddr(args[0]); err != nil {
				return usageError(cmd, "%v", err)
			}
			c, err := loadFileConfig(a.home)
			if err != nil {
				return configError(err)
			}
			out := bootstrapList{File: configPath(a.home)}
			if !slices.Contains(c.Bootstrap, args[0]) {
				c.Bootstrap = append(c.Bootstrap, args[0])
				if err := saveBootstrap(a.home, c.Bootstrap); err != nil {
					return localapi.Errorf(localapi.CodeInternal, "check that --home is writable", "write %s: %v", out.File, err)
				}
				out.Changed = true
			}
			out.Bootstrap = nonNilStrings(c.Bootstrap)
			return a.emitBootstrap(out)
		}),
	}
}

func newBootstrapRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rm <multiaddr|peer-id>",
		Short: "Remove a bootstrap node (by address, or every address of a peer ID)",
		Long: `Remove from <home>/config.toml the given bootstrap address, or every
address of the given peer ID; other keys and comments are kept. Fails with
not_found when nothing matches.`,
		Example:     "  pilot bootstrap rm 12D3KooW...\n  pilot bootstrap rm /ip4/203.0.113.7/tcp/4410/p2p/12D3KooW...",
		Annotations: bootstrapAnnotations("target: a listed multiaddr, or a peer ID"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target := args[0]
			id, idErr := peer.Decode(target)
			if idErr != nil {
				if err := checkBootstrapAddr(target); err != nil {
					return usageError(cmd, "%q is neither a peer ID nor a bootstrap multiaddr", target)
				}
			}
			c, err := loadFileConfig(a.home)
			if err != nil {
				return configError(err)
			}
			kept := c.Bootstrap[:0:0]
			for _, s := range c.Bootstrap {
				match := s == target
				if idErr == nil {
					if ai, err := peer.AddrInfoFromString(s); err == nil && ai.ID == id {
						match = true
					}
				}
				if !match {
					kept = append(kept, s)
				}
			}
			out := bootstrapList{File: configPath(a.home)}
			if len(kept) == len(c.Bootstrap) {
				return localapi.Errorf(localapi.CodeNotFound, "see `pilot bootstrap list`", "%s is not in the bootstrap list", target)
			}
			c.Bootstrap = kept
			if err := saveBootstrap(a.home, c.Bootstrap); err != nil {
				return localapi.Errorf(localapi.CodeInternal, "check that --home is writable", "write %s: %v", out.File, err)
			}
			out.Changed, out.Bootstrap = true, nonNilStrings(c.Bootstrap)
			return a.emitBootstrap(out)
		}),
	}
}

func (a *app) emitBootstrap(v bootstrapList) error {
	return a.emit(v, func(w io.Writer) {
		if len(v.Bootstrap) == 0 {
			fmt.Fprintf(w, "no bootstrap nodes in %s\n", v.File)
			return
		}
		for _, s := range v.Bootstrap {
			fmt.Fprintln(w, s)
		}
	})
}

// configError reports a config file that cannot be used.
func configError(err error) error {
	return localapi.Errorf(localapi.CodeInvalidArgument,
		"fix the key named, or move the file away and run `pilot init` for a fresh one; its keys are the flags of `pilot up` (docs/deploy.md)",
		"config: %v", err)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
