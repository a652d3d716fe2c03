package mcp

import (
	"unicode/utf8"

	"github.com/pilot-agents/pilot/node/localapi"
)

// Input checks, run before the daemon is asked, so that a malformed call
// fails with invalid_argument and changes nothing. They are the CLI's
// (node/localapi/args.go), with the input's name in front of the message.

func parseTarget(field, s string) (string, error) {
	v, err := localapi.ParseTarget(s)
	return v, localapi.In(field, err)
}

func parseAddr(field, s string) (string, error) {
	v, err := localapi.ParseAddr(s)
	return v, localapi.In(field, err)
}

func parseHostname(s string) (string, error) {
	v, err := localapi.ParseHostname(s)
	return v, localapi.In("name", err)
}

func parseTag(s string) (string, error) {
	v, err := localapi.ParseTag(s)
	return v, localapi.In("tag", err)
}

func parseTopic(s string) (string, error) {
	v, err := localapi.ParseTopic(s)
	return v, localapi.In("topic", err)
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
