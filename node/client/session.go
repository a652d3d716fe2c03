package client

import (
	"context"

	"github.com/pilot-agents/pilot/node/localapi"
)

// TrustRequest asks the agent at address to trust this node, with a
// justification its operator reads (POST /v1/trust, action "request").
// Trust is mutual once both sides agree; mutual requests approve at once.
func (c *Client) TrustRequest(ctx context.Context, address, message string) (TrustRecord, error) {
	return c.api.Trust(ctx, localapi.TrustRequest{Action: "request", Address: address, Message: message})
}

// TrustApprove approves the agent's pending request (POST /v1/trust,
// action "approve").
func (c *Client) TrustApprove(ctx context.Context, address string) (TrustRecord, error) {
	return c.api.Trust(ctx, localapi.TrustRequest{Action: "approve", Address: address})
}

// TrustReject rejects the agent's pending request (POST /v1/trust, action
// "reject").
func (c *Client) TrustReject(ctx context.Context, address string) (TrustRecord, error) {
	return c.api.Trust(ctx, localapi.TrustRequest{Action: "reject", Address: address})
}

// TrustRevoke withdraws this node's trust in the agent, which is told
// (POST /v1/trust, action "revoke"); see docs/trust.md.
func (c *Client) TrustRevoke(ctx context.Context, address string) (TrustRecord, error) {
	return c.api.Trust(ctx, localapi.TrustRequest{Action: "revoke", Address: address})
}

// TrustList lists every trust record (GET /v1/trust).
func (c *Client) TrustList(ctx context.Context) (TrustList, error) {
	return c.api.TrustList(ctx, false)
}

// TrustPending lists the requests waiting for this node's decision (GET
// /v1/trust?pending=1).
func (c *Client) TrustPending(ctx context.Context) (TrustList, error) {
	return c.api.TrustList(ctx, true)
}

// Ports lists the node's ports that listen or are public (GET /v1/ports).
func (c *Client) Ports(ctx context.Context) (PortList, error) { return c.api.Ports(ctx) }

// SetPortPublic opens port to every agent (public) or to trusted agents
// only (POST /v1/ports).
func (c *Client) SetPortPublic(ctx context.Context, port uint16, public bool) (PortInfo, error) {
	return c.api.SetPortPolicy(ctx, localapi.PortPolicyRequest{Port: port, Public: public})
}

// Expose serves the local TCP service to ("127.0.0.1:8080") on Pilot port
// port: every stream on the port is carried to a new TCP connection to it
// (POST /v1/tunnels/expose). The tunnel lives until CloseTunnel or the
// daemon stops.
func (c *Client) Expose(ctx context.Context, port uint16, to string) (Tunnel, error) {
	return c.api.Expose(ctx, localapi.ExposeRequest{Port: port, To: to})
}

// Forward listens on the local TCP address listen (loopback; port 0 picks
// one, see Tunnel.Local) and carries every connection to the Pilot socket
// address to ("3f2a.91c0.7d14:8080" or "hostname:8080") (POST
// /v1/tunnels/forward).
func (c *Client) Forward(ctx context.Context, listen, to string) (Tunnel, error) {
	return c.api.Forward(ctx, localapi.ForwardRequest{Listen: listen, To: to})
}

// Tunnels lists the tunnels with their counters (GET /v1/tunnels).
func (c *Client) Tunnels(ctx context.Context) (TunnelList, error) { return c.api.Tunnels(ctx) }

// CloseTunnel closes a tunnel: its listener and its open connections
// (DELETE /v1/tunnels/{id}).
func (c *Client) CloseTunnel(ctx context.Context, id string) (Tunnel, error) {
	return c.api.CloseTunnel(ctx, id)
}

// SetProfile changes the node's published profile; nil fields stay as
// they are (POST /v1/profile).
func (c *Client) SetProfile(ctx context.Context, req ProfileRequest) (Profile, error) {
	return c.api.SetProfile(ctx, req)
}

// SetHostname sets the hostname other agents find this node by.
func (c *Client) SetHostname(ctx context.Context, name string) (Profile, error) {
	return c.SetProfile(ctx, ProfileRequest{Hostname: &name})
}

// SetTags replaces the node's tags (an empty list clears them).
func (c *Client) SetTags(ctx context.Context, tags []string) (Profile, error) {
	return c.SetProfile(ctx, ProfileRequest{Tags: tags, SetTags: true})
}

// Find looks up the agents claiming hostname, verified and ranked (POST
// /v1/find). More than one untrusted claimant is CodeAmbiguous, with the
// claimants in the result.
func (c *Client) Find(ctx context.Context, hostname string) (FindResult, error) {
	return c.api.Find(ctx, localapi.FindRequest{Name: hostname})
}

// FindTag looks up the agents carrying tag.
func (c *Client) FindTag(ctx context.Context, tag string) (FindResult, error) {
	return c.api.Find(ctx, localapi.FindRequest{Tag: tag})
}
