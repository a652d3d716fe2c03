package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newPoloCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "polo [addr|hostname]",
		Short: "Show an agent's Polo score in your node's view (default: your own)",
		Long: `Polo is reputation earned by doing tasks for others: signed attestations
of completed tasks, gossiped between nodes, scored by each node for itself
(personalised EigenTrust anchored on you and the peers you trust). The
score runs from 0 (no standing with anyone you trust, directly or through
others) to 1000; about 393 is an average participant's share. The output
says how it was derived. See docs/polo.md.`,
		Example:     "  pilot polo my-agent\n  pilot polo 3f2a.91c0.7d14 --json\n  pilot polo stats",
		Annotations: daemonAnnotations("target?: the agent's pilot address or hostname (default: this node)", localapi.PoloInfo{}),
		Args:        annotatedArgs,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target := ""
			if len(args) == 1 {
				var err error
				if target, err = localapi.ParseTarget(args[0]); err != nil {
					return err
				}
			}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.PoloInfo, error) {
				return c.Polo(ctx, target)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				last := "never"
				if v.LastSeen != nil {
					last = v.LastSeen.Local().Format(time.DateTime)
				}
				writeKV(w, []kv{{"address", v.Address}, {"score", v.Score}, {"attestations", v.Attestations},
					{"successes", v.Successes}, {"failures", v.Failures}, {"issuers", v.Issuers}, {"last_seen", last},
					{"derivation", v.Derivation}})
			})
		}),
	}
	cmd.AddCommand(newPoloStatsCmd(a))
	return cmd
}

func newPoloStatsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:         "stats",
		Short:       "Attestations stored, and those refused by reason",
		Example:     "  pilot polo stats --json",
		Annotations: daemonAnnotations("", localapi.PoloStats{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).PoloStats)
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				writeKV(w, []kv{{"stored", v.Stored}, {"accepted", v.Accepted}})
				for _, part := range []struct {
					name string
					m    map[string]uint64
				}{{"rejected", v.Rejected}, {"gossip", v.Gossip}, {"sync", v.Sync}, {"tasks", v.Tasks}} {
					keys := make([]string, 0, len(part.m))
					for k := range part.m {
						keys = append(keys, k)
					}
					slices.Sort(keys)
					for _, k := range keys {
						fmt.Fprintf(w, "%s.%s: %d\n", part.name, k, part.m[k])
					}
				}
			})
		}),
	}
}
