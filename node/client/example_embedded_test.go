package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"

	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/client"
)

// The embedded path: the program runs the node itself (node.New, Start,
// Close), with no daemon. Here two embedded nodes on loopback: one serves
// HTTP on Pilot port 80, the other fetches from it.
func Example_embedded() {
	ctx := context.Background()

	// node.DaemonConfig(home) is the preset for a persistent agent;
	// TestnetConfig keeps everything in memory, on 127.0.0.1.
	server, err := node.New(node.TestnetConfig())
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer server.Close()

	ln, err := server.Listen(80) // a net.Listener on Pilot port 80
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	if err := server.SetPortPublic(80, true); err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "served by an embedded node")
	}))

	cfg := node.TestnetConfig()
	cfg.Bootstrap = server.JoinAddrs() // join the mesh through the server
	caller, err := node.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := caller.Start(ctx); err != nil {
		log.Fatal(err)
	}
	defer caller.Close()

	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return caller.DialAddr(ctx, server.Addr(), 80)
		},
	}}
	var body []byte
	err = retry(func() error {
		resp, err := hc.Get("http://" + server.Addr().String() + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(body))
	// Output: served by an embedded node
}

// Errors carry a code to branch on: dialing a port the agent keeps private
// (the default) fails with trust_required until the agent trusts the
// caller.
func ExampleAsError() {
	ctx := context.Background()
	nodeA, homeA, stopA := startNode(nil, true)
	defer stopA()
	_, homeB, stopB := startNode(nodeA.JoinAddrs(), true)
	defer stopB()

	a, b := client.New(homeA), client.New(homeB)
	defer a.Close()
	defer b.Close()
	ln, err := a.Listen(ctx, 81) // private: trusted agents only
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	var e *client.Error
	_ = retry(func() error { // until B finds A: then the answer is A's
		_, err := b.Dial(ctx, nodeA.Addr().String(), 81)
		if e = client.AsError(err); e != nil && e.Code != client.CodeTrustRequired {
			return err
		}
		return nil
	})
	fmt.Println(e.Code)
	fmt.Println(e.Code == client.CodeTrustRequired)
	// Output:
	// trust_required
	// true
}
