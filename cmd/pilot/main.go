// Package main is the pilot command, the Pilot CLI: `pilot up` runs a node
// as a daemon, and the other subcommands (id, status, resolve, ping, peers,
// unpin, echo, send, inbox, publish, subscribe, events, trust, port, ports,
// expose, forward, tunnels, tunnel, listen, connect, set-hostname,
// set-tags, find) are thin clients of that daemon's local API on the Unix
// socket <home>/pilot.sock.
//
// Every command takes --json. On success it prints exactly one line
// {"status":"ok","data":{…}} on stdout (the streaming commands subscribe,
// events, listen and connect print one such line per item); on failure one
// line {"status":"error","code":…,"message":…,"hint":…} on stderr and exits
// non-zero (2 for invalid_argument, 3 for not_running, 1 otherwise).
// `pilot context` prints the command catalogue as JSON, for agents.
// docs/cli.md is the reference.
package main

import (
	"context"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI with args (without the program name), writing to
// stdout and stderr, and returns the process exit code. It never calls
// os.Exit, so tests can run the whole CLI in-process.
func run(args []string, stdout, stderr io.Writer) int {
	return runContext(context.Background(), args, stdout, stderr)
}

// runContext is run with a parent context; cancelling it stops `pilot up`
// and the streaming commands as a signal would, and aborts client calls.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, os.Stdin, stdout, stderr)
}

// runIO is runContext with stdin, which `pilot connect` and `pilot listen`
// send to the remote side.
func runIO(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, jsonArg: jsonRequested(args)}
	root := newRootCmd(a)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		return a.fail(cmd, err)
	}
	return exitOK
}
