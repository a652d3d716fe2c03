package main

import (
	"context"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/trust"
)

func newTrustCmd(a *app) *cobra.Command {
	return newGroupCmd(a, "trust", "Request, approve, reject, revoke and list trust with other agents",
		"  pilot trust request 3f2a.91c0.7d14 --message 'weather agent of ACME'\n  pilot trust pending\n  pilot trust approve 3f2a.91c0.7d14",
		newTrustActionCmd(a, "request", "Ask an agent for mutual trust, with a justification",
			`Send a signed trust request, with --message as the justification its operator
sees, to the agent's port 444. It waits there as pending until its operator
approves or rejects it; if the agent asked first, both sides are trusted at
once. A request to an agent that is offline is retried with backoff, also
across restarts. Trusted agents reach each other's private ports.`,
			"  pilot trust request 3f2a.91c0.7d14 --message 'weather agent of ACME, for the forecast service'\n  pilot trust request my-agent --json"),
		newTrustActionCmd(a, "approve", "Approve an agent's pending trust request",
			"Approve the pending trust request from the agent: both sides are trusted.",
			"  pilot trust approve 3f2a.91c0.7d14\n  pilot trust approve my-agent --json"),
		newTrustActionCmd(a, "reject", "Reject an agent's pending trust request",
			"Reject the pending trust request from the agent.",
			"  pilot trust reject 3f2a.91c0.7d14\n  pilot trust reject my-agent --json"),
		newTrustActionCmd(a, "revoke", "Stop trusting an agent",
			"Revoke trust with the agent, on both sides; it loses access to private ports.",
			"  pilot trust revoke 3f2a.91c0.7d14\n  pilot trust revoke my-agent --json"),
		newTrustListCmd(a, "list", false, "List every trust record (trusted, pending, rejected, revoked)",
			"  pilot trust list\n  pilot trust list --json"),
		newTrustListCmd(a, "pending", true, "List pending trust requests, incoming and outgoing",
			"  pilot trust pending\n  pilot trust pending --json"),
	)
}

// newTrustActionCmd builds `pilot trust <action> <addr|hostname>`.
func newTrustActionCmd(a *app, action, short, long, example string) *cobra.Command {
	var message string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:         action + " <addr|hostname>",
		Short:       short,
		Long:        long,
		Example:     example,
		Annotations: daemonAnnotations("target: the agent's pilot address (3f2a.91c0.7d14) or hostname", localapi.TrustRecord{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target, err := localapi.ParseTarget(args[0])
			if err != nil {
				return err
			}
			if action == "request" {
				if len(message) > trust.MaxMessageLen {
					return usageError(cmd, "--message is %d bytes; at most %d are allowed", len(message), trust.MaxMessageLen)
				}
				if !utf8.ValidString(message) {
					return usageError(cmd, "--message is not valid UTF-8")
				}
			}
			if timeout, err = effectiveTimeout(cmd, timeout, defaultTimeout); err != nil {
				return err
			}
			req := localapi.TrustRequest{Action: action, Address: target, Message: message}
			v, err := call(cmd.Context(), a, timeout, func(c *localapi.Client, ctx context.Context) (localapi.TrustRecord, error) {
				return c.Trust(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) { writeTrustRecord(w, v) })
		}),
	}
	if action == "request" {
		cmd.Flags().StringVar(&message, "message", "", fmt.Sprintf("justification shown to the agent's operator (UTF-8, at most %d bytes)", trust.MaxMessageLen))
	}
	timeoutFlag(cmd, &timeout, "give up after this long (0: 30s)")
	return cmd
}

// newTrustListCmd builds `pilot trust list` and `pilot trust pending`.
func newTrustListCmd(a *app, name string, pendingOnly bool, short, example string) *cobra.Command {
	return &cobra.Command{
		Use:         name,
		Short:       short,
		Example:     example,
		Annotations: daemonAnnotations("", localapi.TrustList{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.TrustList, error) {
				return c.TrustList(ctx, pendingOnly)
			})
			if err != nil {
				return err
			}
			if v.Records == nil {
				v.Records = []localapi.TrustRecord{}
			}
			return a.emit(v, func(w io.Writer) { writeTrustList(w, v, pendingOnly) })
		}),
	}
}
