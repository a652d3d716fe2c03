package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// Exit codes. Every error code maps to one of them (see errorCodes).
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitNotRunning = 3
)

// socketName is the local API socket inside the home folder.
const socketName = "pilot.sock"

// errorCode documents one error code of the envelope.
type errorCode struct {
	Code     string `json:"code"`
	Meaning  string `json:"meaning"`
	ExitCode int    `json:"exit_code"`
}

// errorCodes is the closed list of error codes, in the order of DESIGN.
var errorCodes = []errorCode{
	{localapi.CodeInvalidArgument, "a command, flag, argument or address is malformed or out of range; nothing was attempted", exitUsage},
	{localapi.CodeNotFound, "the address, peer or record does not exist in the mesh (nobody holds it)", exitFailure},
	{localapi.CodeAmbiguous, "a name matches more than one agent", exitFailure},
	{localapi.CodeNotRunning, "no pilot daemon answers on <home>/pilot.sock; start one with `pilot up`", exitNotRunning},
	{localapi.CodeConnectionFailed, "the peer was found but could not be reached, directly or through a relay", exitFailure},
	{localapi.CodeTimeout, "the operation did not finish in time (see --timeout)", exitFailure},
	{localapi.CodeTrustRequired, "the peer only talks to agents it trusts", exitFailure},
	{localapi.CodeInternal, "a bug or an environment problem; see the daemon's log on its stderr", exitFailure},
}

// exitCodeDoc documents one process exit code.
type exitCodeDoc struct {
	Code    int    `json:"code"`
	Meaning string `json:"meaning"`
}

// exitCodes documents the process exit codes.
var exitCodes = []exitCodeDoc{
	{exitOK, "success"},
	{exitFailure, "the command failed (any error code not listed below)"},
	{exitUsage, "invalid_argument: bad command line; retrying the same command will fail again"},
	{exitNotRunning, "not_running: no daemon on this --home"},
}

// exitCode returns the exit code for an error code.
func exitCode(code string) int {
	for _, c := range errorCodes {
		if c.Code == code {
			return c.ExitCode
		}
	}
	return exitFailure
}

// app holds the global flags and the streams of one CLI run.
type app struct {
	stdin          io.Reader // read by connect and listen only
	stdout, stderr io.Writer
	home           string // --home, made absolute before any command runs
	jsonFlag       bool   // --json as parsed by cobra
	jsonArg        bool   // --json seen in the raw arguments (parsing may stop before it)
}

// json reports whether output is in JSON envelopes.
func (a *app) json() bool { return a.jsonFlag || a.jsonArg }

// socket returns the daemon's local API socket.
func (a *app) socket() string { return filepath.Join(a.home, socketName) }

// emit prints a successful result: one ok-envelope line with --json,
// otherwise the text rendering.
func (a *app) emit(data any, text func(w io.Writer)) error {
	if a.json() {
		return a.writeOK(data)
	}
	text(a.stdout)
	return nil
}

// writeOK prints {"status":"ok","data":…} as one line on stdout.
func (a *app) writeOK(data any) error {
	env := struct {
		Status string `json:"status"`
		Data   any    `json:"data"`
	}{"ok", data}
	if err := writeJSONLine(a.stdout, env); err != nil {
		return localapi.Errorf(localapi.CodeInternal, "is stdout closed?", "write output: %v", err)
	}
	return nil
}

// fail prints err (as an error envelope on stderr with --json, as
// "error: …"/"hint: …" lines otherwise) and returns the exit code. cmd is
// the command cobra was running, for the usage hint; it may be nil.
func (a *app) fail(cmd *cobra.Command, err error) int {
	e := asCLIError(cmd, err)
	if a.json() {
		env := struct {
			Status  string `json:"status"`
			Code    string `json:"code"`
			Message string `json:"message"`
			Hint    string `json:"hint"`
		}{"error", e.Code, e.Message, e.Hint}
		_ = writeJSONLine(a.stderr, env)
	} else {
		fmt.Fprintf(a.stderr, "error: %s\n", e.Message)
		if e.Hint != "" {
			fmt.Fprintf(a.stderr, "hint: %s\n", e.Hint)
		}
	}
	return exitCode(e.Code)
}

// asCLIError turns any error into a *localapi.Error. Every RunE returns
// *localapi.Error already (see runE), so anything else comes from cobra
// itself before a command ran: a usage error.
func asCLIError(cmd *cobra.Command, err error) *localapi.Error {
	var e *localapi.Error
	if errors.As(err, &e) {
		return e
	}
	return usageError(cmd, "%s", err.Error())
}

// usageError is an invalid_argument error pointing at cmd's help.
func usageError(cmd *cobra.Command, format string, args ...any) *localapi.Error {
	path := "pilot"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	return localapi.Errorf(localapi.CodeInvalidArgument,
		fmt.Sprintf("see `%s --help`, or `pilot context --json` for every command", path), "%s", msg)
}

// writeJSONLine writes v as one line of JSON, without HTML escaping.
func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jsonRequested reports whether args ask for --json. Cobra stops parsing at
// the first bad flag, so an error in front of --json must still come out as
// an envelope; this scan does not depend on parsing.
func jsonRequested(args []string) bool {
	on := false
	for _, s := range args {
		if s == "--" {
			break
		}
		if s == "--json" {
			on = true
		} else if v, ok := strings.CutPrefix(s, "--json="); ok {
			b, err := strconv.ParseBool(v)
			on = err == nil && b
		}
	}
	return on
}
