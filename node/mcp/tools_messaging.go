package mcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pilot-agents/pilot/gossip"
	"github.com/pilot-agents/pilot/node/localapi"
)

// Limits of the messaging tools.
const (
	// maxInlineText bounds the text or JSON of pilot_send: the local API
	// takes requests of at most 1 MiB, and escaping may double the text.
	maxInlineText = 512 << 10
	// maxInlineBinary bounds the decoded bytes of pilot_send's binary.
	maxInlineBinary = 384 << 10
	// Inbox reads: how many messages one call returns, and how many bytes
	// of each body.
	defaultInboxLimit, maxInboxLimit = 20, 100
	defaultBodyBytes, maxBodyBytes   = 16 << 10, 256 << 10
)

// SendInput is the input of pilot_send: exactly one of text, json and
// binary_base64.
type SendInput struct {
	To           string          `json:"to" jsonschema:"the receiving agent's pilot address (3f2a.91c0.7d14) or hostname"`
	Text         string          `json:"text,omitempty" jsonschema:"a UTF-8 text message, at most 512 KiB"`
	JSON         json.RawMessage `json:"json,omitempty" jsonschema:"a JSON value to send as a JSON message (any JSON: object, array, string, number…), at most 512 KiB"`
	BinaryBase64 string          `json:"binary_base64,omitempty" jsonschema:"bytes to send as a binary message, standard base64, at most 384 KiB decoded"`
	TimeoutSec   int             `json:"timeout_seconds,omitempty" jsonschema:"give up after this many seconds, 1 to 600 (default 30)"`
}

// InboxInput is the input of pilot_inbox.
type InboxInput struct {
	ID           string `json:"id,omitempty" jsonschema:"return only the message with this ID (as listed by an earlier call), with its body"`
	Limit        int    `json:"limit,omitempty" jsonschema:"return at most this many of the newest messages, 1 to 100 (default 20)"`
	HeadersOnly  bool   `json:"headers_only,omitempty" jsonschema:"list senders, kinds and sizes only, without bodies (faster for a full inbox)"`
	MaxBodyBytes int    `json:"max_body_bytes,omitempty" jsonschema:"cut each body to this many bytes, 1 to 262144 (default 16384); a cut body has truncated set"`
}

// InboxOutput is the result of pilot_inbox.
type InboxOutput struct {
	Count    int         `json:"count" jsonschema:"messages in the inbox"`
	Returned int         `json:"returned" jsonschema:"messages in this answer: the newest, at most limit"`
	Messages []InboxItem `json:"messages" jsonschema:"the messages, oldest first"`
}

// InboxItem is one message of pilot_inbox: the CLI's inbox entry, with
// the body bounded.
type InboxItem struct {
	localapi.InboxMessage
	Truncated bool `json:"truncated,omitempty" jsonschema:"the body was cut to max_body_bytes"`
}

// PublishInput is the input of pilot_publish.
type PublishInput struct {
	Topic string `json:"topic" jsonschema:"the topic: 1 to 64 characters a-z, 0-9, '.', '_' and '-'"`
	Text  string `json:"text" jsonschema:"the message, not empty (the daemon's limit is 64 KiB unless configured otherwise)"`
}

func (t tools) addMessagingTools(s *sdk.Server) {
	addTool(s, toolSpec{
		name:  "pilot_send",
		title: "Send a message to an agent",
		description: "Deliver one message (text, a JSON value, or base64 bytes: exactly one) to an agent's inbox, " +
			"by address or hostname. Returns once the receiver stored it, with the message ID in its inbox. " +
			"Most agents accept messages only from agents they trust: on trust_required, ask with pilot_trust_request " +
			"and wait for approval. Files go with the `pilot send --file` command, not here.",
	}, t.send)

	addTool(s, toolSpec{
		name:  "pilot_inbox",
		title: "Read the inbox",
		description: "Read the messages other agents sent to this node, oldest first, with their bodies (text and JSON " +
			"as text, binary as base64; a received file is given by its path on this machine). Returns the newest " +
			"limit messages; give id for one message. Bodies are cut to max_body_bytes. Messages stay in the inbox.",
		readOnly: true, local: true,
	}, t.inbox)

	addTool(s, toolSpec{
		name:  "pilot_publish",
		title: "Publish on a topic",
		description: "Publish a text message on a network-wide topic; every agent subscribed to the topic receives it " +
			"(fan-out, no delivery guarantee). peers is how many topic peers this node had when it published. " +
			"Use pilot_send for one agent.",
	}, func(ctx context.Context, in PublishInput) (localapi.Published, error) {
		topic, err := parseTopic(in.Topic)
		if err != nil {
			return localapi.Published{}, err
		}
		if in.Text == "" {
			return localapi.Published{}, localapi.Errorf(localapi.CodeInvalidArgument, "give the message in text", "text is empty")
		}
		if err := checkText("text", in.Text, gossip.MaxMessageSizeLimit); err != nil {
			return localapi.Published{}, err
		}
		req := localapi.PublishRequest{Topic: topic, Data: in.Text}
		return call(ctx, defaultTimeout, func(ctx context.Context) (localapi.Published, error) { return t.d.Publish(ctx, req) })
	})
}

// send checks and sends one message.
func (t tools) send(ctx context.Context, in SendInput) (localapi.SendResult, error) {
	to, err := parseTarget("to", in.To)
	if err != nil {
		return localapi.SendResult{}, err
	}
	req := localapi.SendRequest{Address: to}
	given := 0
	for _, set := range []bool{in.Text != "", len(in.JSON) > 0, in.BinaryBase64 != ""} {
		if set {
			given++
		}
	}
	if given != 1 {
		return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "give exactly one of text, json and binary_base64",
			"%d of text, json and binary_base64 are set", given)
	}
	switch {
	case in.Text != "":
		if err := checkText("text", in.Text, maxInlineText); err != nil {
			return localapi.SendResult{}, err
		}
		req.Kind, req.Text = "text", in.Text
	case len(in.JSON) > 0:
		if len(in.JSON) > maxInlineText || !json.Valid(in.JSON) {
			return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "give one JSON value of at most 512 KiB",
				"json is not a valid JSON value of at most %d bytes", maxInlineText)
		}
		req.Kind, req.JSON = "json", in.JSON
	default:
		if base64.StdEncoding.DecodedLen(len(in.BinaryBase64)) > maxInlineBinary+2 {
			return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "send large payloads with the `pilot send --file` command",
				"binary_base64 decodes to over %d bytes", maxInlineBinary)
		}
		b, err := base64.StdEncoding.DecodeString(in.BinaryBase64)
		if err != nil {
			return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "encode the bytes with standard base64 (A-Z a-z 0-9 + /, padded with =)",
				"binary_base64: %v", err)
		}
		if len(b) > maxInlineBinary {
			return localapi.SendResult{}, localapi.Errorf(localapi.CodeInvalidArgument, "send large payloads with the `pilot send --file` command",
				"binary_base64 decodes to %d bytes; at most %d travel inline", len(b), maxInlineBinary)
		}
		req.Kind, req.Binary = "binary", b
	}
	timeout, err := timeoutOf(in.TimeoutSec, 600)
	if err != nil {
		return localapi.SendResult{}, err
	}
	return call(ctx, timeout, func(ctx context.Context) (localapi.SendResult, error) { return t.d.Send(ctx, req) })
}

// inbox lists the newest messages, with bounded bodies unless headers_only.
func (t tools) inbox(ctx context.Context, in InboxInput) (InboxOutput, error) {
	out := InboxOutput{Messages: []InboxItem{}}
	limit, bodyMax := in.Limit, in.MaxBodyBytes
	if limit == 0 {
		limit = defaultInboxLimit
	}
	if bodyMax == 0 {
		bodyMax = defaultBodyBytes
	}
	if err := checkRange("limit", limit, 1, maxInboxLimit); err != nil {
		return out, err
	}
	if err := checkRange("max_body_bytes", bodyMax, 1, maxBodyBytes); err != nil {
		return out, err
	}
	if in.ID != "" {
		if len(in.ID) > 64 {
			return out, localapi.Errorf(localapi.CodeInvalidArgument, "give an ID as listed by pilot_inbox", "id is %d bytes; IDs are at most 64", len(in.ID))
		}
		m, err := call(ctx, defaultTimeout, func(ctx context.Context) (localapi.InboxMessage, error) { return t.d.InboxGet(ctx, in.ID) })
		if err != nil {
			return out, err
		}
		out.Count, out.Returned = 1, 1
		out.Messages = append(out.Messages, bounded(m, bodyMax))
		return out, nil
	}
	list, err := call(ctx, defaultTimeout, t.d.Inbox)
	if err != nil {
		return out, err
	}
	out.Count = len(list.Messages)
	msgs := list.Messages[max(0, len(list.Messages)-limit):]
	for _, m := range msgs {
		if !in.HeadersOnly && m.Path == "" {
			full, err := call(ctx, defaultTimeout, func(ctx context.Context) (localapi.InboxMessage, error) { return t.d.InboxGet(ctx, m.ID) })
			switch e, _ := err.(*localapi.Error); {
			case err == nil:
				m = full
			case e != nil && e.Code == localapi.CodeNotFound:
				continue // deleted since the listing
			default:
				return out, err
			}
		}
		out.Messages = append(out.Messages, bounded(m, bodyMax))
	}
	out.Returned = len(out.Messages)
	return out, nil
}

// bounded cuts m's body to at most n bytes (text at a rune boundary).
func bounded(m localapi.InboxMessage, n int) InboxItem {
	it := InboxItem{InboxMessage: m}
	if len(m.Text) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(m.Text[cut]) {
			cut--
		}
		it.Text, it.Truncated = m.Text[:cut], true
	}
	if len(m.Body) > n {
		it.Body, it.Truncated = m.Body[:n], true
	}
	return it
}
