package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/swarmkey"
)

// swarmKeyFile is where `pilot up` looks for a swarm key when --swarm-key
// is not given.
const swarmKeyFile = "swarm.key"

// swarmInfo is the data of `pilot swarm new` and `pilot swarm id`.
type swarmInfo struct {
	File    string `json:"file"`
	SwarmID string `json:"swarm_id"`
}

func newSwarmCmd(a *app) *cobra.Command {
	return newGroupCmd(a, "swarm", "Create and inspect private swarm keys",
		"  pilot swarm new\n  pilot swarm new --out team.key\n  pilot swarm id team.key",
		newSwarmNewCmd(a), newSwarmIDCmd(a))
}

func newSwarmNewCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "new",
		Short: "Write a new private swarm key (IPFS swarm.key format, mode 0600)",
		Long: `Generate a random 256-bit pre-shared key and write it in the file format IPFS
private networks use (/key/swarm/psk/1.0.0/, /base16/, 64 hex digits), mode
0600. Nodes started with it (` + "`pilot up --swarm-key FILE`" + `, or the file
saved as swarm.key in their home) form a private swarm: TCP only, sealed by
the key, with its own DHT and topics. Give the file only to the swarm's
members: whoever holds it can join. It never overwrites a file.`,
		Example: "  pilot swarm new --out team.key\n  pilot swarm new            # writes <home>/swarm.key",
		Annotations: map[string]string{
			annOutput: fieldList(swarmInfo{}),
		},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			path := out
			if path == "" {
				path = filepath.Join(a.home, swarmKeyFile)
				if err := os.MkdirAll(a.home, 0o700); err != nil {
					return localapi.Errorf(localapi.CodeInternal, "pass a writable --home or --out", "create %s: %v", a.home, err)
				}
			}
			k, err := swarmkey.Generate()
			if err != nil {
				return localapi.Errorf(localapi.CodeInternal, "", "generate a swarm key: %v", err)
			}
			if err := swarmkey.Write(path, k); err != nil {
				if errors.Is(err, os.ErrExist) {
					return localapi.Errorf(localapi.CodeInvalidArgument, "choose another --out, or remove the old key if no node uses it", "%s exists already; a swarm key is never overwritten", path)
				}
				return localapi.Errorf(localapi.CodeInternal, "check that the folder is writable", "write %s: %v", path, err)
			}
			v := swarmInfo{File: path, SwarmID: k.ID()}
			return a.emit(v, func(w io.Writer) {
				fmt.Fprintf(w, "wrote the key of swarm %s to %s (mode 0600)\n", v.SwarmID, v.File)
				fmt.Fprintf(w, "members start with: pilot up --swarm-key %s\n", v.File)
				fmt.Fprintln(w, "share it only with the swarm's members: whoever holds it can join")
			})
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (default <home>/swarm.key)")
	return cmd
}

func newSwarmIDCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "id [file]",
		Short: "Print the short ID of a swarm key (what `pilot status` shows)",
		Long: `Read a swarm key file (default <home>/swarm.key), check it, and print the
swarm's short ID: 12 hex digits derived from the key that reveal nothing of
it. Two nodes are in the same swarm exactly when their IDs match.`,
		Example: "  pilot swarm id team.key --json",
		Annotations: map[string]string{
			annArgs:   "file?: swarm key file (default <home>/swarm.key)",
			annOutput: fieldList(swarmInfo{}),
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			path := filepath.Join(a.home, swarmKeyFile)
			if len(args) == 1 {
				path = args[0]
			}
			k, err := swarmkey.Load(path)
			if err != nil {
				return swarmKeyError(err)
			}
			v := swarmInfo{File: path, SwarmID: k.ID()}
			return a.emit(v, func(w io.Writer) { fmt.Fprintf(w, "swarm %s (%s)\n", v.SwarmID, v.File) })
		}),
	}
}

// loadSwarmKey returns the swarm key `pilot up` runs with: the --swarm-key
// file, else <home>/swarm.key when it exists, else none (public mesh).
func loadSwarmKey(home, flag string) (*swarmkey.Key, error) {
	path := flag
	if path == "" {
		path = filepath.Join(home, swarmKeyFile)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	k, err := swarmkey.Load(path)
	if err != nil {
		return nil, swarmKeyError(err)
	}
	return &k, nil
}

func swarmKeyError(err error) error {
	return localapi.Errorf(localapi.CodeInvalidArgument, "create a key with `pilot swarm new`, or ask the swarm for its key file", "swarm key: %v", err)
}
