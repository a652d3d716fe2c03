package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/localapi"
)

// Send limits and budgets.
const (
	// maxInlineBinary bounds --binary: the bytes travel base64-encoded
	// inside the request, and the local API takes requests of at most
	// 1 MiB. Larger payloads go with --file.
	maxInlineBinary = (1<<20 - 4<<10) / 4 * 3
	// fileSendTimeout is the default --timeout of send --file.
	fileSendTimeout = 5 * time.Minute
)

func newEchoCmd(a *app) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "echo <addr|hostname> <text>",
		Short: "Send text to an agent's echo port (7) and print what comes back",
		Long: `Connect to the agent (by address or hostname) and send the text to its echo
service on port 7; print the reply and the round-trip time. A quick check
that a session to the agent works end to end.`,
		Example: "  pilot echo 3f2a.91c0.7d14 hello\n  pilot echo my-agent 'are you there?' --json",
		Annotations: daemonAnnotations("target: the agent's pilot address (3f2a.91c0.7d14) or hostname; text: the text to send",
			localapi.EchoResult{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target, err := localapi.ParseTarget(args[0])
			if err != nil {
				return err
			}
			if !utf8.ValidString(args[1]) {
				return usageError(cmd, "the text is not valid UTF-8")
			}
			if timeout, err = effectiveTimeout(cmd, timeout, defaultTimeout); err != nil {
				return err
			}
			req := localapi.EchoRequest{Address: target, Text: args[1]}
			v, err := call(cmd.Context(), a, timeout, func(c *localapi.Client, ctx context.Context) (localapi.EchoResult, error) {
				return c.Echo(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				writeKV(w, []kv{{"address", v.Address}, {"peer_id", v.PeerID}, {"text", v.Text}, {"rtt_ms", ms(v.RTTMs)}})
			})
		}),
	}
	timeoutFlag(cmd, &timeout, "give up after this long (0: 30s)")
	return cmd
}

// sendOptions are the flags of `pilot send`.
type sendOptions struct {
	jsonBody bool
	file     string
	binary   string
	timeout  time.Duration
}

func newSendCmd(a *app) *cobra.Command {
	var o sendOptions
	cmd := &cobra.Command{
		Use:   "send <addr|hostname> [text]",
		Short: "Send a text, JSON value, binary blob or file to an agent's inbox (port 1001)",
		Long: `Deliver one message to the agent's data exchange port (1001); it lands in
the receiver's inbox (` + "`pilot inbox`" + ` there). The command returns once the
receiver has stored the message, with its ID in the receiver's inbox.

What is sent, exactly one of:
  <text>                 a UTF-8 text message
  <text> --json-body     a JSON value (checked here with a JSON parser)
  --file PATH            a named file; the daemon reads PATH and sends its
                         base name and contents (receiver limit 64 MiB)
  --binary PATH          the bytes of PATH as a binary message, carried
                         inline (at most 765 KiB; use --file for more)`,
		Example: `  pilot send 3f2a.91c0.7d14 "hello there"
  pilot send my-agent '{"task":"summarise","url":"https://example.com"}' --json-body --json
  pilot send my-agent --file ./report.pdf
  pilot send 3f2a.91c0.7d14 --binary ./blob.bin --json`,
		Annotations: daemonAnnotations("target: the agent's pilot address (3f2a.91c0.7d14) or hostname; text?: the message (omitted with --file or --binary)",
			localapi.SendResult{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			target, err := localapi.ParseTarget(args[0])
			if err != nil {
				return err
			}
			req, err := buildSend(cmd, o, target, args[1:])
			if err != nil {
				return err
			}
			def := defaultTimeout
			if req.Kind == "file" {
				def = fileSendTimeout
			}
			timeout, err := effectiveTimeout(cmd, o.timeout, def)
			if err != nil {
				return err
			}
			v, err := call(cmd.Context(), a, timeout, func(c *localapi.Client, ctx context.Context) (localapi.SendResult, error) {
				return c.Send(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				writeKV(w, []kv{{"address", v.Address}, {"peer_id", v.PeerID}, {"id", v.ID}, {"kind", v.Kind}, {"size", v.Size}})
			})
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.jsonBody, "json-body", false, "the text argument is a JSON value; send it as a JSON message")
	f.StringVar(&o.file, "file", "", "send the file at PATH (no text argument); the daemon reads it")
	f.StringVar(&o.binary, "binary", "", "send the bytes of the file at PATH as a binary message (no text argument)")
	timeoutFlag(cmd, &o.timeout, "give up after this long (0: 30s, 5m with --file)")
	return cmd
}

// buildSend checks the flag combination and the payload of `pilot send`
// and returns the request. rest holds the optional text argument.
func buildSend(cmd *cobra.Command, o sendOptions, target string, rest []string) (localapi.SendRequest, error) {
	req := localapi.SendRequest{Address: target}
	fileSet, binSet := cmd.Flags().Changed("file"), cmd.Flags().Changed("binary")
	switch {
	case fileSet && binSet:
		return req, usageError(cmd, "--file and --binary cannot be used together")
	case (fileSet || binSet) && o.jsonBody:
		return req, usageError(cmd, "--json-body applies to the text argument; it cannot be used with --file or --binary")
	case (fileSet || binSet) && len(rest) > 0:
		return req, usageError(cmd, "give either a text argument or --file/--binary, not both")
	case !fileSet && !binSet && len(rest) == 0:
		return req, usageError(cmd, "nothing to send: give a text argument, --file PATH or --binary PATH")
	}
	switch {
	case fileSet:
		path, err := regularFile("--file", o.file)
		if err != nil {
			return req, err
		}
		req.Kind, req.Path = "file", path
	case binSet:
		path, err := regularFile("--binary", o.binary)
		if err != nil {
			return req, err
		}
		st, err := os.Stat(path)
		if err == nil && st.Size() > maxInlineBinary {
			return req, localapi.Errorf(localapi.CodeInvalidArgument, "send it with --file PATH instead",
				"--binary %s is %d bytes; at most %d bytes travel inline", path, st.Size(), maxInlineBinary)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return req, localapi.Errorf(localapi.CodeInvalidArgument, "give a file you can read", "--binary: %v", err)
		}
		if len(b) > maxInlineBinary { // it grew since the Stat
			return req, localapi.Errorf(localapi.CodeInvalidArgument, "send it with --file PATH instead",
				"--binary %s is %d bytes; at most %d bytes travel inline", path, len(b), maxInlineBinary)
		}
		req.Kind, req.Binary = "binary", b
		if req.Binary == nil {
			req.Binary = []byte{}
		}
	case o.jsonBody:
		if !json.Valid([]byte(rest[0])) {
			return req, localapi.Errorf(localapi.CodeInvalidArgument, `quote the JSON for the shell, e.g. '{"a":1}'`,
				"--json-body: the text argument is not valid JSON: %.60q", rest[0])
		}
		req.Kind, req.JSON = "json", json.RawMessage(rest[0])
	default:
		if !utf8.ValidString(rest[0]) {
			return req, usageError(cmd, "the text is not valid UTF-8; send bytes with --binary PATH")
		}
		req.Kind, req.Text = "text", rest[0]
	}
	return req, nil
}

// regularFile checks that path names a regular file and returns it
// absolute: the daemon, not this process, may open it, from its own
// working directory.
func regularFile(flag, path string) (string, error) {
	if path == "" {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, "give the path of a file", "%s needs a path", flag)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, "give the path of a file", "%s %q: %v", flag, path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, "check the path", "%s: %v", flag, err)
	}
	if !st.Mode().IsRegular() {
		return "", localapi.Errorf(localapi.CodeInvalidArgument, "give a regular file, not a folder or a device",
			"%s %s is not a regular file (%s)", flag, abs, st.Mode().Type())
	}
	return abs, nil
}

func newPublishCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "publish <topic> <text>",
		Short: "Publish a message on a network-wide topic (event stream, port 1002)",
		Long: `Publish the text on the topic through gossipsub; every agent subscribed to
the topic (` + "`pilot subscribe <topic>`" + `) receives it. A topic name is 1 to
64 characters a-z, 0-9, '.', '_' and '-'. "peers" is how many topic peers
this node had when it published.`,
		Example: "  pilot publish weather 'rain at 15:00'\n  pilot publish jobs.new '{\"id\":42}' --json",
		Annotations: daemonAnnotations("topic: topic name, 1 to 64 characters a-z, 0-9, '.', '_', '-'; text: the message, not empty",
			localapi.Published{}),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			topic, err := parseTopic(args[0])
			if err != nil {
				return err
			}
			if args[1] == "" {
				return usageError(cmd, "the message is empty")
			}
			if !utf8.ValidString(args[1]) {
				return usageError(cmd, "the message is not valid UTF-8")
			}
			req := localapi.PublishRequest{Topic: topic, Data: args[1]}
			v, err := call(cmd.Context(), a, defaultTimeout, func(c *localapi.Client, ctx context.Context) (localapi.Published, error) {
				return c.Publish(ctx, req)
			})
			if err != nil {
				return err
			}
			return a.emit(v, func(w io.Writer) {
				fmt.Fprintf(w, "published %d %s on %s to %d %s\n", v.Size, plural(v.Size, "byte", "bytes"),
					v.Topic, v.Peers, plural(v.Peers, "peer", "peers"))
			})
		}),
	}
}

// parseTopic checks a topic name against the event stream's rules.
func parseTopic(s string) (string, error) {
	if err := gossip.ValidTopic(s); err != nil {
		return "", localapi.Errorf(localapi.CodeInvalidArgument,
			"a topic is 1 to 64 characters a-z, 0-9, '.', '_' and '-'", "%v", err)
	}
	return s, nil
}
