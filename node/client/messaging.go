package client

import (
	"context"
	"encoding/json"

	"github.com/pilot-agents/pilot/node/localapi"
)

// Send delivers one message to the agent's data-exchange port (1001),
// where it lands in its inbox (POST /v1/send). The helpers SendText,
// SendJSON, SendBinary and SendFile fill req for each kind.
func (c *Client) Send(ctx context.Context, req SendRequest) (SendResult, error) {
	return c.api.Send(ctx, req)
}

// SendText sends a text message.
func (c *Client) SendText(ctx context.Context, address, text string) (SendResult, error) {
	return c.Send(ctx, SendRequest{Address: address, Kind: "text", Text: text})
}

// SendJSON sends a JSON document; it must be valid JSON.
func (c *Client) SendJSON(ctx context.Context, address string, doc json.RawMessage) (SendResult, error) {
	return c.Send(ctx, SendRequest{Address: address, Kind: "json", JSON: doc})
}

// SendBinary sends bytes.
func (c *Client) SendBinary(ctx context.Context, address string, b []byte) (SendResult, error) {
	return c.Send(ctx, SendRequest{Address: address, Kind: "binary", Binary: b})
}

// SendFile sends the file at path; the daemon reads it, so path is on the
// daemon's machine.
func (c *Client) SendFile(ctx context.Context, address, path string) (SendResult, error) {
	return c.Send(ctx, SendRequest{Address: address, Kind: "file", Path: path})
}

// Inbox lists the received messages, without their bodies (GET /v1/inbox).
func (c *Client) Inbox(ctx context.Context) (InboxList, error) { return c.api.Inbox(ctx) }

// InboxGet returns one message with its body (GET /v1/inbox/{id}).
func (c *Client) InboxGet(ctx context.Context, id string) (InboxMessage, error) {
	return c.api.InboxGet(ctx, id)
}

// InboxDelete deletes one message (DELETE /v1/inbox/{id}).
func (c *Client) InboxDelete(ctx context.Context, id string) (Deleted, error) {
	return c.api.InboxDelete(ctx, id)
}

// Publish publishes data on a network-wide topic (port 1002, POST
// /v1/publish).
func (c *Client) Publish(ctx context.Context, topic, data string) (Published, error) {
	return c.api.Publish(ctx, localapi.PublishRequest{Topic: topic, Data: data})
}

// Subscribe calls fn, from the calling goroutine, for every message
// published on topic, until ctx ends, fn returns an error (returned as
// is), or count messages arrived (count 0: no limit) (GET
// /v1/subscribe/{topic}).
func (c *Client) Subscribe(ctx context.Context, topic string, count int, fn func(TopicEvent) error) error {
	return c.api.Subscribe(ctx, topic, count, fn)
}

// Events calls fn, from the calling goroutine, for every local event of
// the daemon (trust requests, messages, peers coming and going) until ctx
// ends or fn returns an error (GET /v1/events).
func (c *Client) Events(ctx context.Context, fn func(LocalEvent) error) error {
	return c.api.Events(ctx, fn)
}
