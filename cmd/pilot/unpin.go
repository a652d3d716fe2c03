package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newUnpinCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "unpin <addr>",
		Short: "Forget the peer pinned to an address (after its owner really changed keys)",
		Long: `The first peer seen behind an address is pinned (trust on first use), and a
later record for the same address from another key is refused. When the owner
really did change keys, unpin the address: the next resolution pins whichever
peer the DHT then names. "removed" is false when there was no pin.`,
		Example:     "  pilot unpin 3f2a.91c0.7d14\n  pilot unpin 3f2a.91c0.7d14 --json",
		Annotations: daemonAnnotations("addr: pilot address whose pin to remove, like 3f2a.91c0.7d14", localapi.Unpinned{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			addr, err := parseAddr(args[0])
			if err != nil {
				return err
			}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Unpinned, error) {
				return c.Unpin(ctx, addr)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				if v.Removed {
					fmt.Fprintf(w, "unpinned %s (was %s)\n", v.Address, v.PeerID)
				} else {
					fmt.Fprintf(w, "%s was not pinned\n", v.Address)
				}
			})
		}),
	}
}
