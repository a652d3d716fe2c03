package main

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newSetHostnameCmd(a *app) *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "set-hostname <name>",
		Short: "Set (or --clear) the hostname other agents can find this node by",
		Long: `Set the hostname this node publishes in its signed profile, so that other
agents can use it wherever an address is accepted (` + "`pilot find <name>`" + `,
` + "`pilot send <name> …`" + `). A hostname is 1 to 63 characters a-z, 0-9 and '-', not
starting or ending with '-'; upper case is lowered. Hostnames are not
unique: several agents claiming one are reported as ambiguous, never
silently picked. --clear withdraws the hostname.`,
		Example:     "  pilot set-hostname weather-bot\n  pilot set-hostname --clear --json",
		Annotations: daemonAnnotations("name?: the hostname (omitted with --clear)", localapi.Profile{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			var name string
			switch {
			case clear && len(args) > 0:
				return usageError(cmd, "give a hostname or --clear, not both")
			case !clear && len(args) == 0:
				return usageError(cmd, "give a hostname, or --clear to remove it")
			case !clear:
				var err error
				if name, err = localapi.ParseHostname(args[0]); err != nil {
					return err
				}
			}
			return a.setProfile(cmd, localapi.ProfileRequest{Hostname: &name})
		}),
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove the hostname")
	return cmd
}

func newSetTagsCmd(a *app) *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "set-tags <tag,...>",
		Short: "Set (or --clear) the tags other agents can find this node by",
		Long: `Replace the tags this node publishes in its signed profile; ` + "`pilot find --tag`" + `
finds every agent with a tag. Tags are comma-separated, each 1 to 32
characters a-z, 0-9 and '-'; upper case is lowered, duplicates are dropped.
--clear removes every tag.`,
		Example:     "  pilot set-tags weather,forecast\n  pilot set-tags --clear --json",
		Annotations: daemonAnnotations("tags?: comma-separated tags, like weather,forecast (omitted with --clear)", localapi.Profile{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			tags := []string{}
			switch {
			case clear && len(args) > 0:
				return usageError(cmd, "give tags or --clear, not both")
			case !clear && len(args) == 0:
				return usageError(cmd, "give comma-separated tags, or --clear to remove them all")
			case !clear:
				for part := range strings.SplitSeq(args[0], ",") {
					tag, err := localapi.ParseTag(part)
					if err != nil {
						return err
					}
					tags = append(tags, tag)
				}
			}
			return a.setProfile(cmd, localapi.ProfileRequest{Tags: tags, SetTags: true})
		}),
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every tag")
	return cmd
}

// setProfile sends req and prints the resulting profile.
func (a *app) setProfile(cmd *cobra.Command, req localapi.ProfileRequest) error {
	v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Profile, error) {
		return c.SetProfile(ctx, req)
	})
	if err != nil {
		return err
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if v.Ports == nil {
		v.Ports = []uint16{}
	}
	return a.emit(v, func(w io.Writer) { writeProfile(w, v) })
}

func newFindCmd(a *app) *cobra.Command {
	var tag string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "find <hostname> | --tag <tag>",
		Short: "Find the agents behind a hostname or a tag",
		Long: `List every verified agent that claims the hostname (or, with --tag, the tag),
ranked: pinned or trusted first, then Polo score, then address. When several
unranked agents claim a hostname the answer is ambiguous: an error (exit 1)
whose hint lists their addresses, and nothing on stdout. When no verified
agent claims it, the answer is not_found (exit 1), as for every lookup.`,
		Example:     "  pilot find weather-bot\n  pilot find --tag forecast --json",
		Annotations: daemonAnnotations("hostname?: the hostname to look up (omitted with --tag)", localapi.FindResult{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			var req localapi.FindRequest
			switch {
			case cmd.Flags().Changed("tag") && len(args) > 0:
				return usageError(cmd, "give a hostname or --tag, not both")
			case cmd.Flags().Changed("tag"):
				t, err := localapi.ParseTag(tag)
				if err != nil {
					return err
				}
				req.Tag = t
			case len(args) == 0:
				return usageError(cmd, "give a hostname, or --tag <tag>")
			default:
				name, err := localapi.ParseHostname(args[0])
				if err != nil {
					return err
				}
				req.Name = name
			}
			timeout, err := effectiveTimeout(cmd, timeout, defaultTimeout)
			if err != nil {
				return err
			}
			v, err := call(cmd.Context(), a, timeout, func(c *localapi.Client, ctx context.Context) (localapi.FindResult, error) {
				return c.Find(ctx, req)
			})
			if err != nil {
				return err
			}
			if v.Claimants == nil {
				v.Claimants = []localapi.Claimant{}
			}
			return a.emit(v, func(w io.Writer) { writeFind(w, v) })
		}),
	}
	cmd.Flags().StringVar(&tag, "tag", "", "find the agents with this tag instead of a hostname")
	timeoutFlag(cmd, &timeout, "give up after this long (0: 30s)")
	return cmd
}
