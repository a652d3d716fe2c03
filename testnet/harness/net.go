package harness

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node"
)

// Random streams: each purpose draws from its own PCG stream keyed by
// (seed ^ domain, index), so that adding a draw in one place does not
// shift the draws of another.
const (
	domainKey      = 0x6b6579732e2e2e2e // "keys...."
	domainSetup    = 0x73657475702e2e2e // "setup..."
	domainChoice   = 0x63686f6963652e2e // "choice.."
	domainSybil    = 0x737962696c2e2e2e // "sybil..."
	domainNet      = 0x6e6574776f726b2e // "network."
	domainDispatch = 0x6469737061746368 // "dispatch"
	domainChurn    = 0x636875726e2e2e2e // "churn..."
	domainOutcome  = 0x6f7574636f6d652e // "outcome."
)

func newRand(seed, domain, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^domain, stream))
}

// member is one node of the testnet, which churn may close and restart
// with the same identity.
type member struct {
	idx  int
	key  crypto.PrivKey
	id   peer.ID
	addr addressing.Addr

	mu       sync.RWMutex
	node     *node.Node // nil while down
	restarts int
}

// get returns the running node, or nil while it is down.
func (m *member) get() *node.Node {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.node
}

// identity derives member idx's Ed25519 key from the seed, so that a seed
// gives the same peer IDs in every arm.
func identity(seed uint64, idx int) (crypto.PrivKey, error) {
	r := newRand(seed, domainKey, uint64(idx))
	var s [ed25519.SeedSize]byte
	for i := 0; i < len(s); i += 8 {
		binary.LittleEndian.PutUint64(s[i:], r.Uint64())
	}
	return crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(s[:]))
}

// testnet is the set of nodes.
type testnet struct {
	cfg     Config
	members []*member
	byPeer  map[peer.ID]int // immutable after newTestnet
	// nodeConfig returns member idx's node configuration (TaskFunc and
	// tags come from its agent).
	nodeConfig func(idx int) node.Config
	// profile publishes member idx's tags once its node runs.
	profile func(idx int, n *node.Node) error

	bootMu  sync.Mutex
	bootRng *rand.Rand // bootstrap choices, under bootMu

	started atomic.Int32
}

func newTestnet(cfg Config) (*testnet, error) {
	t := &testnet{cfg: cfg, byPeer: make(map[peer.ID]int, cfg.Nodes),
		bootRng: newRand(cfg.Seed, domainNet, 0)}
	for i := range cfg.Nodes {
		k, err := identity(cfg.Seed, i)
		if err != nil {
			return nil, fmt.Errorf("harness: identity %d: %w", i, err)
		}
		id, err := peer.IDFromPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("harness: identity %d: %w", i, err)
		}
		a, err := addressing.FromPublicKey(k.GetPublic())
		if err != nil {
			return nil, fmt.Errorf("harness: identity %d: %w", i, err)
		}
		t.members = append(t.members, &member{idx: i, key: k, id: id, addr: a})
		t.byPeer[id] = i
	}
	return t, nil
}

// serverConns are a DHT server's connection water marks: room for every
// node of the run, and at least four times a client's.
func serverConns(cfg Config) (low, high int) {
	return max(4*cfg.ConnLow, cfg.Nodes), max(4*cfg.ConnHigh, cfg.Nodes+cfg.ConnHigh)
}

// connBudget is a resource-manager memory budget whose connection limits
// (go-libp2p's defaults scale 64 inbound and 128 in all per GiB, over a
// base of 64 and 128) stay above high connections.
func connBudget(high int) int64 {
	return int64(high/64+2) << 30
}

// baseConfig is the testnet preset with this run's settings for member
// idx: in-memory, QUIC on loopback, DHT server for the first DHTServers
// members and client for the others; anyone may submit tasks (TaskMinPolo
// 0).
//
// QUIC, not the preset's TCP: a QUIC node holds one UDP socket whatever
// its connections, where every loopback TCP connection holds a file
// descriptor at each end, both in this process, and a thousand nodes
// with a few dozen connections each need more than RLIMIT_NOFILE allows.
func (t *testnet) baseConfig(idx int) node.Config {
	c := node.TestnetConfig()
	c.ListenAddrs = []string{"/ip4/127.0.0.1/udp/0/quic-v1"}
	c.ConnLow, c.ConnHigh = t.cfg.ConnLow, t.cfg.ConnHigh
	// The resource manager's connection limits scale with ResourceMemory
	// (an accounting budget, not an allocation): the preset's 128 MiB
	// admits 64 inbound connections, under ConnHigh, and a node refused
	// by a DHT server fails its lookup. 1 GiB admits 128.
	c.ResourceMemory = 1 << 30
	if idx < t.cfg.DHTServers {
		// A DHT server answers every client's lookups. Like an anchor it
		// keeps a connection to everyone who asks, mostly inbound, so
		// that clients keep theirs open rather than handshake again for
		// every lookup: a server that trims closes hundreds of clients
		// at once, who all dial it again.
		c.ConnLow, c.ConnHigh = serverConns(t.cfg)
		c.ResourceMemory = connBudget(c.ConnHigh)
	} else {
		c.DHTMode = "client"
	}
	c.TaskMinPolo = 0
	// The testnet preset republishes every minute (quick for small tests);
	// a thousand nodes doing that keep the DHT busy for nothing: records
	// last 48 hours and nobody's addresses change during a run.
	c.RepublishInterval = 10 * time.Minute
	return c
}

// bootstrapFor picks up to three random running DHT servers other than
// idx, among the first `among` members, and returns their join addresses.
// (A DHT client answers no DHT queries: joining through one leaves the
// newcomer with an empty routing table.)
func (t *testnet) bootstrapFor(idx, among int) []string {
	among = min(among, t.cfg.DHTServers)
	t.bootMu.Lock()
	perm := t.bootRng.Perm(among)
	t.bootMu.Unlock()
	var out []string
	picked := 0
	for _, j := range perm {
		if picked == 3 {
			break
		}
		if j == idx {
			continue
		}
		if n := t.members[j].get(); n != nil {
			if addrs := n.JoinAddrs(); len(addrs) > 0 {
				out = append(out, addrs...)
				picked++
			}
		}
	}
	return out
}

// startMember starts member idx bootstrapped from boot and publishes its
// profile. On error nothing stays running.
func (t *testnet) startMember(ctx context.Context, idx int, boot []string) error {
	m := t.members[idx]
	cfg := t.nodeConfig(idx)
	cfg.Bootstrap = boot
	n, err := node.NewWithIdentity(cfg, m.key)
	if err != nil {
		return fmt.Errorf("harness: node %d: %w", idx, err)
	}
	if err := n.Start(ctx); err != nil {
		n.Close()
		return fmt.Errorf("harness: start node %d: %w", idx, err)
	}
	if t.profile != nil {
		if err := t.profile(idx, n); err != nil {
			n.Close()
			return fmt.Errorf("harness: profile of node %d: %w", idx, err)
		}
	}
	m.mu.Lock()
	m.node = n
	m.mu.Unlock()
	return nil
}

// start starts every member in batches: the first node alone, then
// batches that double up to StartBatch nodes, each node joining through
// three random DHT servers started in earlier batches (bootstrapping everyone
// from node 0 overloads it: a third of 100 nodes ends up isolated).
// progress is called after each node.
func (t *testnet) start(ctx context.Context, progress func(started int)) error {
	for lo, hi := 0, 1; lo < len(t.members); lo, hi = hi, min(len(t.members), hi+min(hi, t.cfg.StartBatch)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		boots := make([][]string, hi-lo)
		for i := lo; i < hi; i++ {
			boots[i-lo] = t.bootstrapFor(i, lo)
		}
		var wg sync.WaitGroup
		errs := make([]error, hi-lo)
		for i := lo; i < hi; i++ {
			wg.Go(func() {
				errs[i-lo] = t.startMember(ctx, i, boots[i-lo])
				if errs[i-lo] == nil && progress != nil {
					progress(int(t.started.Add(1)))
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// awaitProfiles waits until every running node has published its profile
// (provider records included), or for at most limit; progress is called
// with the number published every second. It returns that number.
func (t *testnet) awaitProfiles(ctx context.Context, limit time.Duration, progress func(published int)) int {
	deadline := time.Now().Add(limit)
	for {
		published, up := 0, 0
		for _, m := range t.members {
			if n := m.get(); n != nil {
				up++
				if at, _, err := n.DHT().LastProfilePublish(); !at.IsZero() && err == nil {
					published++
				}
			}
		}
		if progress != nil {
			progress(published)
		}
		if published == up || time.Now().After(deadline) {
			return published
		}
		select {
		case <-ctx.Done():
			return published
		case <-time.After(time.Second):
		}
	}
}

// publishFailure is the commonest cause among the running nodes whose
// last profile publication failed, and how many share it ("", 0 if none
// failed).
func (t *testnet) publishFailure() (string, int) {
	errs := map[string]int{}
	for _, m := range t.members {
		if n := m.get(); n != nil {
			if _, _, err := n.DHT().LastProfilePublish(); err != nil {
				errs[cause(err)]++
			}
		}
	}
	common, count := "", 0
	for e, c := range errs {
		if c > count || (c == count && e < common) {
			common, count = e, c
		}
	}
	return common, count
}

// cause is the last part of err's text, where wrapped errors keep the
// root cause; the prefixes name the node, which would make every node's
// error different.
func cause(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// stopMember closes member idx's node; it is down until restartMember.
func (t *testnet) stopMember(idx int) {
	m := t.members[idx]
	m.mu.Lock()
	n := m.node
	m.node = nil
	m.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// restartMember starts member idx again with the same identity, joining
// through three random running members.
func (t *testnet) restartMember(ctx context.Context, idx int) error {
	if err := t.startMember(ctx, idx, t.bootstrapFor(idx, len(t.members))); err != nil {
		return err
	}
	m := t.members[idx]
	m.mu.Lock()
	m.restarts++
	m.mu.Unlock()
	return nil
}

// closeAll closes every node, 64 at a time, and waits for them.
func (t *testnet) closeAll() {
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range t.members {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			t.stopMember(i)
		})
	}
	wg.Wait()
}

// running returns the nodes up now, by member index (nil for a node that
// is down).
func (t *testnet) running() []*node.Node {
	out := make([]*node.Node, len(t.members))
	for i, m := range t.members {
		out[i] = m.get()
	}
	return out
}
