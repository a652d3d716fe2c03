package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
	"github.com/spf13/pflag"
)

// configHeader opens the file `pilot init` writes.
const configHeader = `# Pilot node settings, read by ` + "`pilot up`" + ` (docs/deploy.md).
#
# Every key is a flag of ` + "`pilot up`" + ` with the same name, written here at its
# default. A flag given on the command line wins over the key here, except
# bootstrap, where both lists are used. Unknown keys and values of the wrong
# type are refused, and ` + "`pilot up`" + ` then starts nothing. Relative paths are
# relative to the folder ` + "`pilot up`" + ` runs in: write absolute ones.
`

// settingNotes add to a flag's usage in the file `pilot init` writes.
var settingNotes = map[string]string{
	"bootstrap": "The list here and every --bootstrap flag are both used. `pilot bootstrap add|rm` " +
		"rewrite this key (comments inside the brackets are not kept).",
}

// renderConfig returns the commented config file with every setting of
// flags at its default, and the keys written.
func renderConfig(flags *pflag.FlagSet) (string, []string) {
	flags.SortFlags = false // definition order groups related flags
	var b strings.Builder
	b.WriteString(configHeader)
	var keys []string
	flags.VisitAll(func(f *pflag.Flag) {
		if !isSetting(f) {
			return
		}
		b.WriteString("\n")
		usage := f.Usage
		if note := settingNotes[f.Name]; note != "" {
			usage += ". " + note
		}
		for _, line := range wrapWords(usage, 76) {
			b.WriteString("# " + line + "\n")
		}
		fmt.Fprintf(&b, "%s = %s\n", f.Name, tomlDefault(f))
		keys = append(keys, f.Name)
	})
	return b.String(), keys
}

// tomlDefault renders f's default value as a TOML value.
func tomlDefault(f *pflag.Flag) string {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		elem := tomlKind(sliceElemType(f.Value.Type()))
		var parts []string
		for _, s := range sv.GetSlice() {
			if elem == "string" {
				s = tomlQuote(s)
			}
			parts = append(parts, s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if tomlKind(f.Value.Type()) == "string" {
		return tomlQuote(f.DefValue)
	}
	return f.DefValue
}

// tomlArray renders a list of strings as a TOML array, one element a line.
func tomlArray(list []string) string {
	if len(list) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[\n")
	for _, s := range list {
		b.WriteString("  " + tomlQuote(s) + ",\n")
	}
	b.WriteString("]")
	return b.String()
}

// tomlQuote renders s as a TOML basic string.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == utf8.RuneError, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// wrapWords splits s into lines of at most width bytes where it can.
func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// setKey returns doc with key's value replaced by value (TOML text), or
// with `key = value` appended when doc lacks key. Everything else in doc,
// comments included, is kept byte for byte. doc must parse.
func setKey(doc []byte, key, value string) ([]byte, error) {
	var p unstable.Parser
	p.Reset(doc)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind != unstable.KeyValue {
			continue
		}
		it := e.Key()
		if !it.Next() || string(it.Node().Data) != key {
			continue
		}
		start, end := int(e.Raw.Offset), int(e.Raw.Offset+e.Raw.Length)
		out := append([]byte{}, doc[:start]...)
		out = append(out, key+" = "+value...)
		return append(out, doc[end:]...), nil
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	out := append([]byte{}, doc...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, key+" = "+value+"\n"...), nil
}

// saveBootstrap sets the bootstrap key of home's config file to list,
// keeping every other key and comment. A missing file is first written as
// `pilot init` would write it.
func saveBootstrap(home string, list []string) error {
	doc, err := readConfigFile(home)
	if errors.Is(err, os.ErrNotExist) {
		body, _ := renderConfig(upFlags())
		doc, err = []byte(body), nil
	}
	if err != nil {
		return err
	}
	doc, err = setKey(doc, "bootstrap", tomlArray(list))
	if err != nil {
		return fmt.Errorf("%s: %w", configPath(home), err)
	}
	if _, err := parseFileConfig(configPath(home), doc); err != nil {
		return fmt.Errorf("internal: the edited config does not parse: %w", err)
	}
	return writeConfigFile(home, doc, true)
}

// writeConfigFile writes doc as home's config file, mode 0600, creating
// home with mode 0700 when missing. The file appears whole or not at all;
// without replace an existing file is left alone and os.ErrExist returned.
func writeConfigFile(home string, doc []byte, replace bool) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(home, ".config-*.toml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(doc); err != nil {
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
	if replace {
		return os.Rename(tmp.Name(), configPath(home))
	}
	// A hard link never replaces an existing file.
	return os.Link(tmp.Name(), configPath(home))
}
