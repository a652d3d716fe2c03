package client_test

import (
	"context"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pilot-agents/pilot/node"
)

// startNode starts an in-memory node on loopback that joins the mesh
// through bootstrap (nil: the first node). With api it also serves the
// local API, like `pilot up`, on the socket of a fresh home folder, which
// it returns. stop closes the node and removes the home.
func startNode(bootstrap []string, api bool) (n *node.Node, home string, stop func()) {
	cfg := node.TestnetConfig()
	cfg.Bootstrap = bootstrap
	if api {
		var err error
		if home, err = os.MkdirTemp("", "pilot-sdk-"); err != nil {
			log.Fatal(err)
		}
		cfg.APISocket = filepath.Join(home, "pilot.sock")
	}
	n, err := node.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	return n, home, func() {
		n.Close()
		if home != "" {
			os.RemoveAll(home)
		}
	}
}

// retry calls f every 100 ms until it succeeds or a minute has passed,
// and returns its last error: a node that has just joined may not find
// another one in the DHT at once.
func retry(f func() error) error {
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		<-tick.C
	}
}
