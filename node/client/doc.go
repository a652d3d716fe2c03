// Package client is the Go SDK of Pilot for programs that talk to a
// running daemon (`pilot up`) over its local API socket, <home>/pilot.sock.
//
// A Client has one typed method per local-API endpoint (the same calls the
// pilot CLI makes), plus the two that make Pilot ports feel like TCP:
// Dial opens a stream to another agent's port, and Listen holds a port of
// the daemon open and returns a net.Listener whose Accept yields every
// stream that arrives on it — so an http.Server, a gRPC server or any
// net.Listener-based code serves a Pilot port unchanged.
//
//	c := client.Default() // or client.New("/path/to/home")
//	defer c.Close()
//	id, err := c.ID(ctx)
//	ln, err := c.Listen(ctx, 80)
//	go http.Serve(ln, handler)
//	conn, err := c.Dial(ctx, "3f2a.91c0.7d14", 80)
//
// Errors are *Error values with a Code (CodeNotRunning, CodeTrustRequired,
// ...) and a Hint, the codes of the CLI's --json envelopes; use AsError to
// branch on them.
//
// # Embedding a node instead
//
// A program can run the node in its own process with no daemon:
// node.New(cfg) then Start(ctx), and use the *node.Node methods (Dial,
// Listen, Send, Expose, ...) directly; Close stops it. Start from a preset:
// node.DaemonConfig(home) for a persistent agent, node.TestnetConfig() for
// an in-memory one on loopback (tests), node.AnchorConfig for a public
// bootstrap node. Config.APISocket (which DaemonConfig sets to
// <home>/pilot.sock) makes the embedded node serve the local API too, so the
// CLI and this package can talk to it. See docs/sdk.md.
package client
