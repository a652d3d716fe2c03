package client_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/pilot-agents/pilot/node/client"
)

// Two programs, each talking to its own daemon: one serves HTTP on Pilot
// port 80 through Listen, the other fetches from it through Dial.
func Example() {
	ctx := context.Background()
	// Two daemons on loopback (in a real deployment: `pilot up` on two
	// machines, and client.Default() in each program).
	nodeA, homeA, stopA := startNode(nil, true)
	defer stopA()
	_, homeB, stopB := startNode(nodeA.JoinAddrs(), true)
	defer stopB()

	// Program A: serve HTTP on port 80, open to every agent.
	a := client.New(homeA)
	defer a.Close()
	idA, err := a.ID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := a.Listen(ctx, 80)
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	if _, err := a.SetPortPublic(ctx, 80, true); err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// RemoteAddr is the caller's Pilot socket address: its address
		// (authenticated by its key) and the port.
		caller, _, _ := net.SplitHostPort(r.RemoteAddr)
		fmt.Fprintf(w, "hello, agent %s", caller)
	}))

	// Program B: an http.Client whose connections are Pilot streams.
	b := client.New(homeB)
	defer b.Close()
	idB, err := b.ID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return b.Dial(ctx, idA.Address, 80)
		},
	}}
	var body []byte
	err = retry(func() error {
		resp, err := hc.Get("http://" + idA.Address + "/")
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
	fmt.Println(strings.ReplaceAll(string(body), idB.Address, "B"))
	// Output: hello, agent B
}
