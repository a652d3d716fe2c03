package localapi

import (
	"strings"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/gossip"
)

// Input checks that clients of the API (the pilot CLI, the MCP server)
// run before they ask the daemon, so that a malformed argument fails with
// CodeInvalidArgument, and the same message and hint, even when no daemon
// runs. The daemon checks everything again.

// TargetHint explains what an address-or-hostname argument accepts.
const TargetHint = "give a pilot address like 3f2a.91c0.7d14, or a hostname of 1 to 63 characters a-z, 0-9 and '-'"

// ParseTarget reads an argument that names an agent: a pilot address
// (returned in canonical form) or a hostname (returned in lower case).
func ParseTarget(s string) (string, error) {
	if s == "" {
		return "", Errorf(CodeInvalidArgument, TargetHint, "the agent is empty")
	}
	addr, aerr := addressing.Parse(s)
	if aerr == nil {
		return addr.String(), nil
	}
	if strings.Contains(s, ".") { // hostnames have no dots: this was meant as an address
		return "", Errorf(CodeInvalidArgument, TargetHint, "%v", aerr)
	}
	name := strings.ToLower(s)
	if err := dht.ValidHostname(name); err != nil {
		return "", Errorf(CodeInvalidArgument, TargetHint, "%.80q is neither a pilot address nor a valid hostname: %v", s, err)
	}
	return name, nil
}

// ParseAddr reads a pilot address and returns its canonical form.
func ParseAddr(s string) (string, error) {
	addr, err := addressing.Parse(s)
	if err != nil {
		return "", Errorf(CodeInvalidArgument, "a pilot address is 12 hex digits in three groups, like 3f2a.91c0.7d14", "%v", err)
	}
	return addr.String(), nil
}

// ParseHostname reads a hostname: lower-cased, then checked against the
// daemon's rules.
func ParseHostname(s string) (string, error) {
	name := strings.ToLower(s)
	if err := dht.ValidHostname(name); err != nil {
		return "", Errorf(CodeInvalidArgument,
			"a hostname is 1 to 63 characters a-z, 0-9 and '-', not starting or ending with '-', and not shaped like an address", "%v", err)
	}
	return name, nil
}

// ParseTag reads one tag: trimmed and lower-cased, then checked against
// the daemon's rules.
func ParseTag(s string) (string, error) {
	tag := strings.ToLower(strings.TrimSpace(s))
	if err := dht.ValidTag(tag); err != nil {
		return "", Errorf(CodeInvalidArgument, "a tag is 1 to 32 characters a-z, 0-9 and '-', not starting or ending with '-'", "%v", err)
	}
	return tag, nil
}

// ParseTopic checks a topic name against the event stream's rules.
func ParseTopic(s string) (string, error) {
	if err := gossip.ValidTopic(s); err != nil {
		return "", Errorf(CodeInvalidArgument, "a topic is 1 to 64 characters a-z, 0-9, '.', '_' and '-'", "%v", err)
	}
	return s, nil
}

// In names the input an error from these parsers is about: its message
// becomes "field: message". Errors of other types pass through.
func In(field string, err error) error {
	e, ok := err.(*Error)
	if !ok || e == nil {
		return err
	}
	return &Error{Code: e.Code, Message: field + ": " + e.Message, Hint: e.Hint}
}
