package mcp

import (
	"strings"
	"unicode/utf8"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/localapi"
)

// Input checks, run before the daemon is asked, so that a malformed call
// fails with invalid_argument and changes nothing. They follow the CLI's
// (cmd/pilot/args.go) with the same messages and hints.

// targetHint explains what an address-or-hostname input accepts.
const targetHint = "give a pilot address like 3f2a.91c0.7d14, or a hostname of 1 to 63 characters a-z, 0-9 and '-'"

// parseTarget reads an input that names an agent: a pilot address
// (returned in canonical form) or a hostname (returned in lower case).
func parseTarget(field, s string) (string, error) {
	if s == "" {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, targetHint, "%s is empty", field)
	}
	addr, aerr := addressing.Parse(s)
	if aerr == nil {
		return addr.String(), nil
	}
	if strings.Contains(s, ".") { // hostnames have no dots: this was meant as an address
		return "", localapi.Errorf(localapi.CodeInvalidArgument, targetHint, "%s: %v", field, aerr)
	}
	name := strings.ToLower(s)
	if err := dht.ValidHostname(name); err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, targetHint,
			"%s %.80q is neither a pilot address nor a valid hostname: %v", field, s, err)
	}
	return name, nil
}

// parseAddr reads a pilot address and returns its canonical form.
func parseAddr(field, s string) (string, error) {
	addr, err := addressing.Parse(s)
	if err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument,
			"a pilot address is 12 hex digits in three groups, like 3f2a.91c0.7d14", "%s: %v", field, err)
	}
	return addr.String(), nil
}

// parseHostname reads a hostname: lower-cased, then checked against the
// daemon's rules.
func parseHostname(s string) (string, error) {
	name := strings.ToLower(s)
	if err := dht.ValidHostname(name); err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument,
			"a hostname is 1 to 63 characters a-z, 0-9 and '-', not starting or ending with '-', and not shaped like an address", "name: %v", err)
	}
	return name, nil
}

// parseTag reads one tag: lower-cased, then checked against the daemon's
// rules.
func parseTag(s string) (string, error) {
	tag := strings.ToLower(strings.TrimSpace(s))
	if err := dht.ValidTag(tag); err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument,
			"a tag is 1 to 32 characters a-z, 0-9 and '-', not starting or ending with '-'", "tag: %v", err)
	}
	return tag, nil
}

// parseTopic checks a topic name against the event stream's rules.
func parseTopic(s string) (string, error) {
	if err := gossip.ValidTopic(s); err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument,
			"a topic is 1 to 64 characters a-z, 0-9, '.', '_' and '-'", "topic: %v", err)
	}
	return s, nil
}

// checkText rejects text that is not UTF-8 or longer than max bytes.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return localapi.Errorf(localapi.CodeInvalidArgument, "shorten it",
			"%s is %d bytes; at most %d are allowed", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return localapi.Errorf(localapi.CodeInvalidArgument, "send UTF-8 text", "%s is not valid UTF-8", field)
	}
	return nil
}

// checkRange rejects an integer input outside lo..hi.
func checkRange(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return localapi.Errorf(localapi.CodeInvalidArgument, "see the tool's input schema (tools/list)",
			"%s must be between %d and %d, got %d", field, lo, hi, v)
	}
	return nil
}
