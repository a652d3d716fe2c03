package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/pilot-agents/pilot/node"
)

// DefaultIdleNodes is IdleOptions.Nodes' default.
const DefaultIdleNodes = 20

// MaxIdleNodes bounds IdleOptions.Nodes.
const MaxIdleNodes = 500

// IdleOptions sets what MeasureIdle starts.
type IdleOptions struct {
	// Nodes is the mesh size. Default DefaultIdleNodes.
	Nodes int
}

// Idle is what an idle node costs in this process: the growth of the live
// heap (after a GC) and of the goroutine count from before the mesh
// started to when every node has a peer in its DHT routing table, divided
// by the number of nodes; and the connections the nodes hold then.
type Idle struct {
	Nodes             int     `json:"nodes"`
	DHTServers        int     `json:"dht_servers"`
	HeapMiBPerNode    float64 `json:"heap_mib_per_node"`
	GoroutinesPerNode float64 `json:"goroutines_per_node"`
	ConnsPerNode      float64 `json:"conns_per_node"`
	MaxConns          int     `json:"max_conns"`
}

// idleServers is how many of n nodes serve the DHT, as in a network where
// most agents sit behind a NAT: a tenth, at least 2 and at most 20 (the
// testnet harness's rule has the same ceiling).
func idleServers(n int) int { return min(max(2, n/10), 20, n) }

// MeasureIdle starts opts.Nodes testnet-preset nodes on loopback TCP (the
// first idleServers of them DHT servers, the others DHT clients), measures
// them idle and stops them.
func MeasureIdle(ctx context.Context, opts IdleOptions) (Idle, error) {
	if opts.Nodes == 0 {
		opts.Nodes = DefaultIdleNodes
	}
	if opts.Nodes < 2 || opts.Nodes > MaxIdleNodes {
		return Idle{}, fmt.Errorf("bench: idle nodes %d out of range 2..%d", opts.Nodes, MaxIdleNodes)
	}
	heap0, g0 := liveHeap(), runtime.NumGoroutine()
	nodes := make([]*node.Node, 0, opts.Nodes)
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	const listen = "/ip4/127.0.0.1/tcp/0"
	servers := idleServers(opts.Nodes)
	for i := range opts.Nodes {
		// Each joins through up to three earlier servers, picked by a
		// fixed stride so that no one server takes every newcomer.
		var boot []string
		for j := range min(3, i, servers) {
			boot = append(boot, nodes[(i*7+j*13)%min(i, servers)].JoinAddrs()...)
		}
		role := func(c *node.Config) {
			if i >= servers {
				c.DHTMode = "client"
				return
			}
			// A server takes every client that asks, as an anchor does:
			// the anchor preset's limits (the testnet preset's admit 64
			// inbound connections, and a refused client has an empty
			// routing table).
			a := node.AnchorConfig("")
			c.ConnLow, c.ConnHigh = a.ConnLow, a.ConnHigh
			c.ResourceMemory, c.ResourceFDs = a.ResourceMemory, a.ResourceFDs
		}
		n, err := startNode(ctx, listen, boot, role)
		if err != nil {
			return Idle{}, fmt.Errorf("bench: idle node %d: %w", i, err)
		}
		nodes = append(nodes, n)
	}
	heap1, g1 := liveHeap(), runtime.NumGoroutine()
	conns, most := 0, 0
	for _, n := range nodes {
		c := len(n.Host().Network().Conns())
		conns += c
		most = max(most, c)
	}
	k := float64(opts.Nodes)
	idle := Idle{
		Nodes:             opts.Nodes,
		DHTServers:        servers,
		HeapMiBPerNode:    float64(int64(heap1)-int64(heap0)) / k / (1 << 20),
		GoroutinesPerNode: float64(g1-g0) / k,
		ConnsPerNode:      float64(conns) / k,
		MaxConns:          most,
	}
	var errs []error
	for _, n := range nodes {
		errs = append(errs, n.Close())
	}
	nodes = nil
	return idle, errors.Join(errs...)
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
