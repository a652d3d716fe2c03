package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilot-agents/pilot/node/localapi"
)

// additiveSettings are keys that add to their flag instead of being its
// default: runUp joins the file's bootstrap list and --bootstrap's.
var additiveSettings = map[string]bool{"bootstrap": true}

// applyConfigFile makes every key of home's config file the value of the
// `pilot up` flag of the same name, unless that flag was given on the
// command line (pflag's Changed). It runs before runUp reads the flags.
func applyConfigFile(cmd *cobra.Command, home string) error {
	c, err := loadFileConfig(home)
	if err != nil {
		return configError(err)
	}
	return applySettings(cmd.Flags(), configPath(home), c.Settings)
}

// applySettings sets every flag named by a setting that was not set on the
// command line, with the flag's own parser. Additive settings are left to
// the command.
func applySettings(flags *pflag.FlagSet, path string, settings []setting) error {
	for _, s := range settings {
		if additiveSettings[s.Key] {
			continue
		}
		f := flags.Lookup(s.Key)
		if f == nil {
			return localapi.Errorf(localapi.CodeInternal, "", "internal: config setting %q has no flag", s.Key)
		}
		if f.Changed {
			continue
		}
		if err := setFlag(f, s.Args); err != nil {
			return configError(fmt.Errorf("%s:%d: %s: %w", path, s.Line, s.Key, err))
		}
	}
	return nil
}
