package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/spf13/pflag"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/localapi"
)

// configFileName is the node's config file in its home folder.
const configFileName = "config.toml"

// maxConfigFile bounds what pilot reads as a config file.
const maxConfigFile = 64 << 10

// fileConfig is <home>/config.toml. Its keys are the flags of `pilot up`
// (docs/deploy.md); an unknown key or a value the flag refuses makes the
// whole file refused, so a typo never silently leaves a setting at its
// default.
type fileConfig struct {
	// Bootstrap lists multiaddrs ending in /p2p/<peer-id> of nodes to join
	// through; `pilot up --bootstrap` adds to it for one run, `pilot
	// bootstrap add|rm` edit it.
	Bootstrap []string
	// Settings are the file's keys in file order, each already checked
	// with the parser of the `pilot up` flag of the same name.
	Settings []setting
}

// setting is one key of the config file.
type setting struct {
	Key  string
	Line int
	// Args is the value as flag arguments: one for a scalar, one per
	// element for an array.
	Args []string
}

// settingChecks are checks beyond the flag's own parser, so that a bad
// value is refused with the file's name and line rather than later as if
// it had been a flag.
var settingChecks = map[string]func(string) error{
	"bootstrap":     checkBootstrapAddr,
	"listen":        checkListenAddr,
	"task-min-polo": checkTaskMinPolo,
	"metrics":       checkMetricsSetting,
}

func configPath(home string) string { return filepath.Join(home, configFileName) }

// upFlags returns the flags of a fresh `pilot up` command: the keys a
// config file may hold.
func upFlags() *pflag.FlagSet {
	return newUpCmd(&app{}).Flags()
}

// isSetting reports whether f may be set in the config file.
func isSetting(f *pflag.Flag) bool {
	return f.Name != "help" && !f.Hidden && f.Deprecated == ""
}

// readConfigFile returns the contents of home's config file, or nil and
// os.ErrNotExist when there is none.
func readConfigFile(home string) ([]byte, error) {
	path := configPath(home)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxConfigFile {
		return nil, fmt.Errorf("%s: over %d KiB, not a pilot config file", path, maxConfigFile>>10)
	}
	return b, nil
}

// loadFileConfig reads and checks home's config file; a missing file is
// an empty config.
func loadFileConfig(home string) (fileConfig, error) {
	b, err := readConfigFile(home)
	if errors.Is(err, os.ErrNotExist) {
		return fileConfig{}, nil
	}
	if err != nil {
		return fileConfig{}, err
	}
	return parseFileConfig(configPath(home), b)
}

// parseFileConfig decodes and validates a config file's contents: every
// key must be a flag of `pilot up`, and its value must have the flag's
// type and pass the flag's parser.
func parseFileConfig(path string, b []byte) (fileConfig, error) {
	if len(b) > maxConfigFile {
		return fileConfig{}, fmt.Errorf("%s: over %d KiB, not a pilot config file", path, maxConfigFile>>10)
	}
	var values map[string]any
	if err := toml.NewDecoder(bytes.NewReader(b)).Decode(&values); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return fileConfig{}, fmt.Errorf("%s:%d:%d: %v", path, row, col, de)
		}
		return fileConfig{}, fmt.Errorf("%s: %w", path, err)
	}
	keys, err := topLevelKeys(path, b)
	if err != nil {
		return fileConfig{}, err
	}
	flags := upFlags()
	var c fileConfig
	for _, k := range keys {
		f := flags.Lookup(k.Key)
		if f == nil || !isSetting(f) {
			return fileConfig{}, fmt.Errorf("%s:%d: unknown setting %q; the settings are the flags of `pilot up`: %s",
				path, k.Line, k.Key, strings.Join(settingNames(flags), ", "))
		}
		args, err := settingArgs(f, values[k.Key])
		if err == nil {
			err = setFlag(f, args)
		}
		if check := settingChecks[k.Key]; err == nil && check != nil {
			for _, a := range args {
				if err = check(a); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fileConfig{}, fmt.Errorf("%s:%d: %s: %w", path, k.Line, k.Key, err)
		}
		k.Args = args
		c.Settings = append(c.Settings, k)
		if k.Key == "bootstrap" {
			c.Bootstrap = args
		}
	}
	return c, nil
}

// topLevelKeys lists the keys of a TOML document that decodes, with their
// lines. Tables and dotted keys are refused: every setting is a top-level
// key.
func topLevelKeys(path string, b []byte) ([]setting, error) {
	var p unstable.Parser
	p.Reset(b)
	var out []setting
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.KeyValue, unstable.Table, unstable.ArrayTable:
		default:
			continue
		}
		it := e.Key()
		if !it.Next() {
			continue
		}
		first := it.Node()
		line := p.Shape(first.Raw).Start.Line
		name := string(first.Data)
		if e.Kind != unstable.KeyValue {
			return nil, fmt.Errorf("%s:%d: table [%s]: pilot settings are top-level keys, not tables", path, line, name)
		}
		if it.Next() {
			return nil, fmt.Errorf("%s:%d: dotted key %s.%s: pilot settings are top-level keys", path, line, name, it.Node().Data)
		}
		out = append(out, setting{Key: name, Line: line})
	}
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// settingNames lists the keys a config file may hold.
func settingNames(flags *pflag.FlagSet) []string {
	var names []string
	flags.VisitAll(func(f *pflag.Flag) {
		if isSetting(f) {
			names = append(names, f.Name)
		}
	})
	return names
}

// tomlKind names the TOML type a flag type takes: "boolean", "integer",
// "float" or "string".
func tomlKind(flagType string) string {
	switch {
	case flagType == "bool":
		return "boolean"
	case flagType == "count", strings.HasPrefix(flagType, "int"), strings.HasPrefix(flagType, "uint"):
		return "integer"
	case strings.HasPrefix(flagType, "float"):
		return "float"
	}
	return "string"
}

// sliceElemType is the element type of a slice flag type: "stringArray"
// and "stringSlice" have elements of type "string".
func sliceElemType(flagType string) string {
	if t, ok := strings.CutSuffix(flagType, "Array"); ok {
		return t
	}
	t, _ := strings.CutSuffix(flagType, "Slice")
	return t
}

// settingArgs turns a decoded TOML value into the arguments of flag f,
// refusing a value of the wrong TOML type.
func settingArgs(f *pflag.Flag, v any) ([]string, error) {
	if _, ok := f.Value.(pflag.SliceValue); ok {
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want an array of %ss, got %s", tomlKind(sliceElemType(f.Value.Type())), describeTOML(v))
		}
		out := make([]string, len(arr))
		for i, e := range arr {
			s, err := scalarArg(sliceElemType(f.Value.Type()), e)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i+1, err)
			}
			out[i] = s
		}
		return out, nil
	}
	s, err := scalarArg(f.Value.Type(), v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// scalarArg turns one decoded TOML value into a flag argument of type
// flagType.
func scalarArg(flagType string, v any) (string, error) {
	want := tomlKind(flagType)
	switch x := v.(type) {
	case bool:
		if want == "boolean" {
			return fmt.Sprint(x), nil
		}
	case int64:
		if want == "integer" || want == "float" {
			return fmt.Sprint(x), nil
		}
	case float64:
		if want == "float" {
			return fmt.Sprint(x), nil
		}
	case string:
		if want == "string" {
			return x, nil
		}
	}
	article := "a"
	if want == "integer" {
		article = "an"
	}
	return "", fmt.Errorf("want %s %s (%s), got %s", article, want, flagType, describeTOML(v))
}

// describeTOML names the TOML type of a decoded value.
func describeTOML(v any) string {
	switch x := v.(type) {
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	case int64:
		return fmt.Sprintf("the integer %d", x)
	case float64:
		return fmt.Sprintf("the float %v", x)
	case string:
		return fmt.Sprintf("the string %q", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return "a date or time"
}

// setFlag sets f to args with the flag's own parser: Replace for a slice
// flag, Set for a scalar. It leaves f.Changed alone.
func setFlag(f *pflag.Flag, args []string) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.Replace(args)
	}
	if len(args) != 1 {
		return fmt.Errorf("want one value, got %d", len(args))
	}
	return f.Value.Set(args[0])
}

// checkBootstrapAddr accepts a multiaddr ending in /p2p/<peer-id>.
func checkBootstrapAddr(s string) error {
	if _, err := peer.AddrInfoFromString(s); err != nil {
		return fmt.Errorf("%q: want a multiaddr ending in /p2p/<peer-id>: %v", s, err)
	}
	return nil
}

// checkListenAddr accepts a multiaddr.
func checkListenAddr(s string) error {
	if _, err := ma.NewMultiaddr(s); err != nil {
		return fmt.Errorf("%q is not a multiaddr: %v", s, err)
	}
	return nil
}

// checkTaskMinPolo accepts what `pilot up --task-min-polo` accepts.
func checkTaskMinPolo(s string) error {
	var v int
	if _, err := fmt.Sscan(s, &v); err != nil || v < node.TaskGateTrustedOnly || v > 1000 {
		return fmt.Errorf("%s: want -1 (trusted peers only) or 0 to 1000", s)
	}
	return nil
}

// checkMetricsSetting accepts what `pilot up --metrics` accepts.
func checkMetricsSetting(s string) error {
	if s == "" {
		return nil
	}
	err := checkMetricsAddr(nil, s)
	var e *localapi.Error
	if errors.As(err, &e) {
		return errors.New(strings.TrimPrefix(e.Message, "--metrics "))
	}
	return err
}
