package main

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pilot-agents/pilot/node"
)

// catalogue is what `pilot context` prints: everything an agent needs to
// drive the CLI, generated from the command tree.
type catalogue struct {
	Name        string        `json:"name"`
	Version     string        `json:"version"`
	Description string        `json:"description"`
	Usage       string        `json:"usage"`
	GlobalFlags []flagInfo    `json:"global_flags"`
	Envelope    envelopeDoc   `json:"envelope"`
	Commands    []commandInfo `json:"commands"`
	ErrorCodes  []errorCode   `json:"error_codes"`
	ExitCodes   []exitCodeDoc `json:"exit_codes"`
}

// envelopeDoc describes the --json output contract.
type envelopeDoc struct {
	OK    string   `json:"ok"`
	Error string   `json:"error"`
	Rules []string `json:"rules"`
}

// commandInfo describes one command.
type commandInfo struct {
	Name        string     `json:"name"` // full path, e.g. "pilot ping"
	Short       string     `json:"short"`
	Description string     `json:"description,omitempty"`
	Usage       string     `json:"usage"`
	Args        []argSpec  `json:"args"`
	Flags       []flagInfo `json:"flags"`  // the command's own flags; global_flags apply too
	Output      []string   `json:"output"` // fields of "data"; a[].b is field b of each element of list a
	NeedsDaemon bool       `json:"needs_daemon"`
	LongRunning bool       `json:"long_running"` // runs until SIGINT/SIGTERM (connect, listen: or until the remote closes)
	Streaming   bool       `json:"streaming"`    // with --json, one ok line per item (NDJSON), not exactly one
	Examples    []string   `json:"examples"`
}

// flagInfo describes one flag.
type flagInfo struct {
	Name       string `json:"name"`
	Shorthand  string `json:"shorthand,omitempty"`
	Type       string `json:"type"`
	Default    string `json:"default"`
	Usage      string `json:"usage"`
	Repeatable bool   `json:"repeatable,omitempty"`
}

func newContextCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "context",
		Short: "Print the command catalogue as JSON, for agents",
		Long: `Print every command with its arguments, flags, output fields and examples,
the global flags, the --json envelope, the error codes and the exit codes, as
JSON generated from the command tree. With --json it is the data of an
ok-envelope; without, it is printed indented. No daemon is needed.`,
		Example:     "  pilot context --json",
		Annotations: map[string]string{annOutput: fieldList(catalogue{})},
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			c := buildCatalogue(cmd.Root())
			return a.emit(c, func(w io.Writer) {
				enc := json.NewEncoder(w)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				_ = enc.Encode(c)
			})
		}),
	}
}

// buildCatalogue walks the command tree under root.
func buildCatalogue(root *cobra.Command) catalogue {
	c := catalogue{
		Name:        root.Name(),
		Version:     node.Version,
		Description: root.Short,
		Usage:       root.Name() + " [--home DIR] [--json] <command> [args] [flags]",
		GlobalFlags: flagInfos(root.PersistentFlags()),
		Envelope: envelopeDoc{
			OK:    `{"status":"ok","data":{…}}`,
			Error: `{"status":"error","code":"…","message":"…","hint":"…"}`,
			Rules: []string{
				"with --json, success prints exactly one ok line on stdout and exits 0",
				"with --json, failure prints exactly one error line on stderr, nothing on stdout, and exits non-zero (see exit_codes)",
				"streaming commands (streaming: true) print one ok line per item as it arrives (NDJSON) instead; a failure after some items still ends with one error line on stderr and a non-zero exit",
				"code is one of error_codes; hint says what to do next",
				"usage errors (unknown command or flag, wrong argument count) are invalid_argument too",
				"commands never prompt; stdout carries only what was asked, logs go to stderr",
			},
		},
		ErrorCodes: errorCodes,
		ExitCodes:  exitCodes,
	}
	var walk func(*cobra.Command)
	walk = func(p *cobra.Command) {
		for _, sub := range p.Commands() {
			if !sub.IsAvailableCommand() {
				continue
			}
			if sub.Runnable() && sub.Annotations[annGroup] != "true" {
				c.Commands = append(c.Commands, describeCommand(sub))
			}
			walk(sub)
		}
	}
	walk(root)
	return c
}

// describeCommand describes one command from its fields and annotations.
func describeCommand(cmd *cobra.Command) commandInfo {
	info := commandInfo{
		Name:        cmd.CommandPath(),
		Short:       cmd.Short,
		Description: cmd.Long,
		Usage:       cmd.UseLine(),
		Args:        argSpecs(cmd),
		Flags:       flagInfos(cmd.LocalFlags()),
		Output:      splitList(cmd.Annotations[annOutput]),
		NeedsDaemon: cmd.Annotations[annDaemon] == "required",
		LongRunning: cmd.Annotations[annLongRunning] == "true",
		Streaming:   cmd.Annotations[annStreaming] == "true",
		Examples:    []string{},
	}
	if info.Args == nil {
		info.Args = []argSpec{}
	}
	for line := range strings.SplitSeq(cmd.Example, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			info.Examples = append(info.Examples, line)
		}
	}
	return info
}

// flagInfos lists the flags of fs except cobra's help flag.
func flagInfos(fs *pflag.FlagSet) []flagInfo {
	out := []flagInfo{}
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Hidden {
			return
		}
		typ := f.Value.Type()
		def := f.DefValue
		if def == "[]" {
			def = ""
		}
		out = append(out, flagInfo{
			Name:       f.Name,
			Shorthand:  f.Shorthand,
			Type:       typ,
			Default:    def,
			Usage:      f.Usage,
			Repeatable: strings.HasSuffix(typ, "Array") || strings.HasSuffix(typ, "Slice"),
		})
	})
	return out
}

// splitList splits a comma-separated annotation.
func splitList(s string) []string {
	out := []string{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// fieldList returns the JSON field names of v's struct type, comma-separated,
// for the output annotation: nested struct fields as "a.b", fields of
// list elements as "a[].b".
func fieldList(v any) string {
	return strings.Join(jsonFields(reflect.TypeOf(v), ""), ",")
}

func jsonFields(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("fieldList: %s is not a struct", t)) // a programming error in this package
	}
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == reflect.TypeFor[time.Time](): // a JSON string, not an object
			out = append(out, prefix+name)
		case ft.Kind() == reflect.Struct:
			out = append(out, jsonFields(ft, prefix+name+".")...)
		case ft.Kind() == reflect.Slice && elemStruct(ft):
			out = append(out, jsonFields(ft.Elem(), prefix+name+"[].")...)
		default:
			out = append(out, prefix+name)
		}
	}
	return out
}

func elemStruct(t reflect.Type) bool {
	e := t.Elem()
	for e.Kind() == reflect.Pointer {
		e = e.Elem()
	}
	return e.Kind() == reflect.Struct
}
