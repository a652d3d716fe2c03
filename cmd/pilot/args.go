package main

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/node/localapi"
)

// Client-side parsers for arguments and flags. They run before the daemon
// is contacted, so a malformed command line fails with invalid_argument
// (exit 2) even when no daemon runs. Agents, hostnames and tags are read
// by node/localapi's parsers, which the MCP server shares.

// parsePort reads a port number. With allowZero, 0 is accepted (a local
// listener on a free port); otherwise ports are 1 to 65535.
func parsePort(what, s string, allowZero bool) (uint16, error) {
	lo := 1
	if allowZero {
		lo = 0
	}
	bad := func() (uint16, error) {
		return 0, localapi.Errorf(localapi.CodeInvalidArgument, "ports are decimal numbers",
			"%s %q is not a port: want a number from %d to 65535", what, s, lo)
	}
	if s == "" || len(s) > 5 || strings.TrimLeft(s, "0123456789") != "" {
		return bad()
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || int(n) < lo {
		return bad()
	}
	return uint16(n), nil
}

// parseHostPort reads a TCP "host:port" (IPv6 hosts in brackets). The host
// must not be empty; allowZero accepts port 0. It returns the address
// rejoined in canonical form.
func parseHostPort(what, s string, allowZero bool) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, "write it as 127.0.0.1:8080, localhost:8080 or [::1]:8080",
			"%s %q is not host:port", what, s)
	}
	p, err := parsePort(what+" port", port, allowZero)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, strconv.Itoa(int(p))), nil
}

// parseTargetPort reads "<addr|hostname>:<port>", split at the last ':'.
func parseTargetPort(what, s string) (target string, port uint16, err error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, localapi.Errorf(localapi.CodeInvalidArgument, "write it as 3f2a.91c0.7d14:1000 or my-agent:1000",
			"%s %q has no port: want <addr|hostname>:<port>", what, s)
	}
	if target, err = localapi.ParseTarget(s[:i]); err != nil {
		return "", 0, err
	}
	if port, err = parsePort(what+" port", s[i+1:], false); err != nil {
		return "", 0, err
	}
	return target, port, nil
}

// timeoutFlag adds --timeout to cmd; 0 means def (or forever when def is 0).
func timeoutFlag(cmd *cobra.Command, d *time.Duration, usage string) {
	cmd.Flags().DurationVar(d, "timeout", 0, usage)
}

// effectiveTimeout checks --timeout and applies the default for 0.
func effectiveTimeout(cmd *cobra.Command, d, def time.Duration) (time.Duration, error) {
	if err := checkTimeout(cmd, d); err != nil {
		return 0, err
	}
	if d == 0 {
		return def, nil
	}
	return d, nil
}
