package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pelletier/go-toml/v2"
)

// configFileName is the node's config file in its home folder.
const configFileName = "config.toml"

// maxConfigFile bounds what pilot reads as a config file.
const maxConfigFile = 64 << 10

// fileConfig is <home>/config.toml. Unknown keys are refused, so a typo
// never silently leaves a setting at its default (docs/mesh.md).
type fileConfig struct {
	// Bootstrap lists multiaddrs ending in /p2p/<peer-id> of nodes to join
	// through; `pilot up --bootstrap` adds to it for one run, `pilot
	// bootstrap add|rm` edit it.
	Bootstrap []string `toml:"bootstrap"`
}

func configPath(home string) string { return filepath.Join(home, configFileName) }

// loadFileConfig reads and checks home's config file; a missing file is
// an empty config.
func loadFileConfig(home string) (fileConfig, error) {
	path := configPath(home)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return fileConfig{}, nil
	}
	if err != nil {
		return fileConfig{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return fileConfig{}, fmt.Errorf("read %s: %w", path, err)
	}
	return parseFileConfig(path, b)
}

// parseFileConfig decodes and validates a config file's contents.
func parseFileConfig(path string, b []byte) (fileConfig, error) {
	var c fileConfig
	if len(b) > maxConfigFile {
		return c, fmt.Errorf("%s: over %d KiB, not a pilot config file", path, maxConfigFile>>10)
	}
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return fileConfig{}, fmt.Errorf("%s: unknown setting: %s", path, strings.TrimSpace(strict.String()))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return fileConfig{}, fmt.Errorf("%s:%d:%d: %v", path, row, col, de)
		}
		return fileConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range c.Bootstrap {
		if err := checkBootstrapAddr(s); err != nil {
			return fileConfig{}, fmt.Errorf("%s: bootstrap: %w", path, err)
		}
	}
	return c, nil
}

// checkBootstrapAddr accepts a multiaddr ending in /p2p/<peer-id>.
func checkBootstrapAddr(s string) error {
	if _, err := peer.AddrInfoFromString(s); err != nil {
		return fmt.Errorf("%q: want a multiaddr ending in /p2p/<peer-id>: %v", s, err)
	}
	return nil
}

// configTemplate is what pilot writes: every known key, with comments.
// Comments added by hand are not kept when pilot rewrites the file.
const configTemplate = `# Pilot node settings (docs/mesh.md). pilot rewrites this file when you run
# ` + "`pilot bootstrap add|rm`" + `; comments added by hand are not kept.

# Nodes to join the mesh through: multiaddrs ending in /p2p/<peer-id>.
# ` + "`pilot up --bootstrap ADDR`" + ` adds one for a single run. After a restart
# the node also re-joins through peers it remembers, even when every node
# listed here is gone.
bootstrap = [%s]
`

// saveFileConfig writes c to home's config file atomically, mode 0600.
func saveFileConfig(home string, c fileConfig) error {
	quoted := make([]string, len(c.Bootstrap))
	for i, s := range c.Bootstrap {
		quoted[i] = "\n  " + strconv.Quote(s) + ","
	}
	list := strings.Join(quoted, "")
	if list != "" {
		list += "\n"
	}
	body := fmt.Sprintf(configTemplate, list)
	if _, err := parseFileConfig("generated config", []byte(body)); err != nil {
		return fmt.Errorf("internal: the generated config does not parse: %w", err)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(home, ".config-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), configPath(home))
}
