package client

import (
	"context"

	"github.com/pilot-agents/pilot/node/localapi"
)

// ID returns the node's Pilot address and peer ID (GET /v1/id).
func (c *Client) ID(ctx context.Context) (Identity, error) { return c.api.Identity(ctx) }

// Status returns the node's state: addresses, reachability, NAT, peers,
// relay reservations (GET /v1/status).
func (c *Client) Status(ctx context.Context) (Status, error) { return c.api.Status(ctx) }

// Resolve looks address up in the DHT and returns its peer and network
// addresses (GET /v1/resolve/{addr}).
func (c *Client) Resolve(ctx context.Context, address string) (Resolved, error) {
	return c.api.Resolve(ctx, address)
}

// Ping pings the agent at address count times over its echo port and
// reports the path taken and the round-trip times (POST /v1/ping).
func (c *Client) Ping(ctx context.Context, address string, count int) (PingResult, error) {
	return c.api.Ping(ctx, localapi.PingRequest{Address: address, Count: count})
}

// Peers lists the peers the node is connected to (GET /v1/peers).
func (c *Client) Peers(ctx context.Context) (Peers, error) { return c.api.Peers(ctx) }

// Unpin forgets the peer ID pinned to address, for an agent that really
// changed keys (DELETE /v1/pins/{addr}).
func (c *Client) Unpin(ctx context.Context, address string) (Unpinned, error) {
	return c.api.Unpin(ctx, address)
}

// Echo sends text to the agent's echo port (7) and returns what came back
// (POST /v1/echo).
func (c *Client) Echo(ctx context.Context, address, text string) (EchoResult, error) {
	return c.api.Echo(ctx, localapi.EchoRequest{Address: address, Text: text})
}
