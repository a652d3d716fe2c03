package node

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestMeshReformsFromRememberedPeers is issue 5's acceptance 2: a public
// mesh of a bootstrap node and four nodes; the bootstrap node goes away for
// good and every other node but one restarts with no bootstrap list at
// all. Each re-joins through the peers it remembers, and the mesh re-forms:
// every node resolves every other.
func TestMeshReformsFromRememberedPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	checkLeaks(t)
	ctx := context.Background()
	config := func(home string, port int, boot []string) Config {
		c := TestnetConfig()
		c.InMemory, c.Home = false, home
		c.ListenAddrs = []string{"/ip4/127.0.0.1/tcp/" + strconv.Itoa(port)}
		c.Bootstrap = boot
		return c
	}
	start := func(c Config) *Node {
		n, err := New(c)
		require.NoError(t, err)
		require.NoError(t, n.Start(ctx))
		return n
	}
	boot := start(config(t.TempDir(), freePort(t), nil))
	const size = 4
	homes, portsOf := make([]string, size), make([]int, size)
	nodes := make([]*Node, size)
	for i := range nodes {
		homes[i], portsOf[i] = t.TempDir(), freePort(t)
		nodes[i] = start(config(homes[i], portsOf[i], boot.JoinAddrs()))
	}
	resolvesAll := func() {
		for _, from := range nodes {
			for _, to := range nodes {
				if from == to {
					continue
				}
				eventually(t, 60*time.Second, func() error {
					rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					defer cancel()
					if _, err := from.Resolve(rctx, to.Addr()); err != nil {
						return fmt.Errorf("%s resolves %s: %w", from.Addr(), to.Addr(), err)
					}
					return nil
				})
			}
		}
	}
	resolvesAll() // everyone met everyone, so everyone remembers the others
	for _, n := range nodes {
		got := n.book.Candidates(10)
		require.NotEmpty(t, got, "%s remembers nobody", n.Addr())
	}

	require.NoError(t, boot.Close()) // gone for good
	for i := 1; i < size; i++ {
		require.NoError(t, nodes[i].Close())
	}
	for i := 1; i < size; i++ {
		nodes[i] = start(config(homes[i], portsOf[i], nil)) // no bootstrap list
		require.False(t, nodes[i].FirstNode(), "a node that has been in a mesh is not a first node")
		require.NotEmpty(t, nodes[i].rejoin)
	}
	resolvesAll()
	for _, n := range nodes {
		require.NoError(t, n.Close())
	}
}
