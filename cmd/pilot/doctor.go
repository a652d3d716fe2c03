package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

func newDoctorCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Ask the daemon to check itself: reachability, relays, DHT, clock, store",
		Long: `The daemon runs five checks and prints each with ok, warn or fail, what it
found, and - for every check that is not ok - what to fix:

  reachability  AutoNAT's verdict (public, private, unknown), listen addresses
  relay         a private node's relay reservations: how many, where, expiry
  dht           routing table size, a lookup of the closest peers and of the
                node's own address record
  clock         the offset from connected peers' clocks (a time exchange)
  store         the store answers a read; its size, free disk, last GC

It takes a few seconds (a DHT lookup). The report is printed in full either
way; when a check fails, pilot doctor also exits 1 with an internal error
(on stderr) naming the failed checks. Warnings alone exit 0.
See docs/observability.md.`,
		Example:     "  pilot doctor\n  pilot doctor --json",
		Annotations: daemonAnnotations("", localapi.Doctor{}),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			v, err := call(cmd.Context(), a, defaultTimeout, (*localapi.Client).Doctor)
			if err != nil {
				return err
			}
			if err := a.emit(v, func(w io.Writer) { writeDoctor(w, v) }); err != nil {
				return err
			}
			var failed []string
			for _, c := range v.Checks {
				if c.Status == localapi.DoctorFail {
					failed = append(failed, c.Name)
				}
			}
			if len(failed) > 0 {
				return localapi.Errorf(localapi.CodeInternal, "each failed check in the report says how to fix it; run pilot doctor again afterwards",
					"doctor: %d %s failed: %s", len(failed), plural(len(failed), "check", "checks"), strings.Join(failed, ", "))
			}
			return nil
		}),
	}
}

// writeDoctor prints the report: one block per check, then the health.
func writeDoctor(w io.Writer, d localapi.Doctor) {
	width := 0
	for _, c := range d.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range d.Checks {
		fmt.Fprintf(w, "%-*s  %-4s  %s\n", width, c.Name, c.Status, c.Summary)
		if c.Fix != "" {
			fmt.Fprintf(w, "%-*s  fix:  %s\n", width, "", c.Fix)
		}
		for _, k := range slices.Sorted(maps.Keys(c.Details)) {
			if v := c.Details[k]; v != "" {
				fmt.Fprintf(w, "%-*s        %s: %s\n", width, "", k, v)
			}
		}
	}
	fmt.Fprintf(w, "\nhealth: %s\n", d.Health)
}
