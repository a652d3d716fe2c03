package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// initResult is the data of `pilot init`.
type initResult struct {
	File     string   `json:"file"`
	Keys     []string `json:"keys"`     // the settings written, in file order
	Replaced bool     `json:"replaced"` // --force replaced an existing file
}

func newInitCmd(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write <home>/config.toml: every flag of `pilot up` as a commented setting",
		Long: `Write <home>/config.toml with one key per flag of ` + "`pilot up`" + ` (same name),
each at its default and under the flag's description as a comment. Edit
it, then ` + "`pilot up`" + ` reads it: every key there is the default of its flag,
and a flag given on the command line wins (bootstrap: both lists are used).

The home folder is created with mode 0700 when missing, the file with mode
0600. An existing file is never replaced without --force; a refusal writes
nothing. See docs/deploy.md for a hardened configuration.`,
		Example: "  pilot init\n  pilot init --home /var/lib/pilot --json\n  pilot init --force",
		Annotations: map[string]string{
			annOutput: fieldList(initResult{}),
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			out := initResult{File: configPath(a.home)}
			body, keys := renderConfig(upFlags())
			if _, err := parseFileConfig("generated config", []byte(body)); err != nil {
				return localapi.Errorf(localapi.CodeInternal, "", "internal: the generated config does not parse: %v", err)
			}
			exists := false
			if _, err := os.Lstat(out.File); err == nil {
				exists = true
			} else if !errors.Is(err, os.ErrNotExist) {
				return localapi.Errorf(localapi.CodeInternal, "check --home and its permissions", "stat %s: %v", out.File, err)
			}
			if exists && !force {
				return existsError(out.File)
			}
			if err := writeConfigFile(a.home, []byte(body), force); err != nil {
				if errors.Is(err, os.ErrExist) {
					return existsError(out.File)
				}
				return localapi.Errorf(localapi.CodeInternal, "pass a writable --home", "write %s: %v", out.File, err)
			}
			out.Keys, out.Replaced = keys, exists
			return a.emit(out, func(w io.Writer) {
				verb := "wrote"
				if out.Replaced {
					verb = "replaced"
				}
				fmt.Fprintf(w, "%s %s: %d settings, each at the default of its `pilot up` flag\n", verb, out.File, len(out.Keys))
				fmt.Fprintf(w, "edit it, then run: pilot up --home %s\n", a.home)
			})
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing config file (its settings and comments are lost)")
	return cmd
}

// existsError refuses to replace a config file.
func existsError(path string) error {
	return localapi.Errorf(localapi.CodeInvalidArgument,
		"edit the file, or pass --force to replace it with the defaults (its settings and comments are lost)",
		"%s exists already; nothing was written", path)
}
