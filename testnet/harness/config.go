package harness

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Selection is how an agent chooses a worker among the candidates for a
// tag.
type Selection string

// The selection arms.
const (
	// SelectReputation chooses with node.Choose: probability proportional
	// to the requester's Polo view of each candidate, with a share of
	// exploration among newcomers (Config.Explore).
	SelectReputation Selection = "reputation"
	// SelectRandom chooses uniformly at random (the reputation-blind
	// control).
	SelectRandom Selection = "random"
	// SelectShuffled chooses like SelectReputation from the candidates'
	// Polo scores permuted among them: the same score distribution, no
	// link between score and identity (a second control).
	SelectShuffled Selection = "shuffled"
)

// Selections lists the arms, in the order the CLI documents them.
var Selections = []Selection{SelectReputation, SelectRandom, SelectShuffled}

// Valid reports whether s is one of the arms.
func (s Selection) Valid() bool {
	for _, v := range Selections {
		if s == v {
			return true
		}
	}
	return false
}

// Config configures a run. Every field documents its default, the value a
// zero field takes.
type Config struct {
	// Nodes is the number of nodes (one agent each). Default 100; at
	// least MinNodes.
	Nodes int
	// Seed seeds every choice of the agents, their identities and the
	// task outcomes. 0 is a valid seed (the CLI's default is 1).
	Seed uint64
	// Duration is the length of the workload, after start-up. Default 10
	// minutes.
	Duration time.Duration
	// Selection is the arm. Default SelectReputation.
	Selection Selection
	// Churn is the fraction of the nodes that close and restart (same
	// identity, empty in-memory store) per minute, 0..1. Default 0.
	Churn float64
	// Sybil is the fraction of the agents that form a Sybil collective,
	// 0..0.5. Default 0.
	Sybil float64
	// OutDir is the report folder, created if needed. Default
	// "testnet-<seed>-<selection>" in the working directory.
	OutDir string
	// Progress receives the progress bar; nil shows none. When Terminal is
	// set the bar is redrawn in place with \r, at most every 250 ms;
	// otherwise one line is written at most every 10 seconds.
	Progress io.Writer
	// Terminal: Progress is an interactive terminal. Default false.
	Terminal bool

	// Tags is the number of capability tags (at most len(TagNames)).
	// Default 10.
	Tags int
	// Concurrency is the number of agents acting (looking up, submitting
	// and waiting for a task) at any moment in the whole network: the
	// task rate is what the network then sustains. Default 16.
	Concurrency int
	// Explore is the reputation arms' share of exploration among
	// newcomers (reputation.Choose). Default 0.1.
	Explore float64
	// SnapshotEvery is the interval between recordings of the graphs.
	// Default 30 s, shortened to Duration/6 for runs under 3 minutes (at
	// least 10 s: a snapshot takes the throughput samples, one every 10 s,
	// taken since the last).
	SnapshotEvery time.Duration
	// StartBatch is how many nodes start at once. Default 50: a node's
	// start waits mostly on its bootstrap peers' answers, so small batches
	// leave the CPU idle (measured: batches of 40 kept it half busy while
	// a thousand nodes started).
	StartBatch int
	// ConnLow and ConnHigh are each node's connection manager water
	// marks. Default 32 and 96: under what the DHT's routing table and a
	// lookup's fan-out keep open, the manager trims connections that the
	// next lookup dials again, and the handshakes cost more CPU than the
	// connections cost memory.
	ConnLow, ConnHigh int
	// DHTServers is how many nodes run the DHT as servers, the first ones
	// to start, with room for a connection to every node; the others are
	// DHT clients, as most agents behind a NAT are, and join through
	// servers. Default: a fiftieth of the nodes, at least 20 (every node
	// in a network of 20 or fewer). Every client ends up connected to
	// every server it looks up through, so servers cost handshakes:
	// measured on 1,000 nodes, all servers took 4 minutes to start and
	// then two full cores, idle; 50 servers ran 0.04–0.12 tasks/s and 20
	// servers 0.32 (docs/testnet.md).
	DHTServers int
	// Observers is the number of honest, never-churned agents whose Polo
	// views are averaged for the score-versus-degree plot. Default 3.
	Observers int
	// TaskTimeout is each task's deadline. Default 30 s.
	TaskTimeout time.Duration
	// FindTTL is how long an agent keeps the providers it found for a tag.
	// Default 5 minutes.
	FindTTL time.Duration
	// FindSlots bounds the tag lookups (node.FindProviders) running at
	// once in the whole network. Default 8.
	FindSlots int
	// Bootstrap is the number of bootstrap replicates of the power-law
	// goodness-of-fit test (analysis.Options.Bootstrap). Default 0: the
	// analysis package's default (2500).
	Bootstrap int
	// ChurnDowntime is how long a churned node stays down before it
	// restarts. Default 5 s.
	ChurnDowntime time.Duration
}

// MinNodes is the smallest network Run accepts.
const MinNodes = 5

// TagNames are the capability tags, most demanded first.
var TagNames = []string{"translate", "summarise", "code", "search", "vision",
	"math", "legal", "finance", "audio", "medical", "chemistry", "geo"}

// withDefaults returns c with every zero field set to its default, or an
// error for a value out of range.
func (c Config) withDefaults() (Config, error) {
	if c.Nodes == 0 {
		c.Nodes = 100
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Minute
	}
	if c.Selection == "" {
		c.Selection = SelectReputation
	}
	if c.Tags == 0 {
		c.Tags = 10
	}
	switch {
	case c.Nodes < MinNodes:
		return c, fmt.Errorf("harness: %d nodes; at least %d", c.Nodes, MinNodes)
	case c.Duration < 0:
		return c, errors.New("harness: negative duration")
	case !c.Selection.Valid():
		return c, fmt.Errorf("harness: unknown selection %q (reputation, random or shuffled)", c.Selection)
	case c.Churn < 0 || c.Churn > 1:
		return c, fmt.Errorf("harness: churn %g out of range 0..1 (fraction of nodes per minute)", c.Churn)
	case c.Sybil < 0 || c.Sybil > 0.5:
		return c, fmt.Errorf("harness: sybil fraction %g out of range 0..0.5", c.Sybil)
	case c.Tags < 1 || c.Tags > len(TagNames):
		return c, fmt.Errorf("harness: %d tags; 1..%d", c.Tags, len(TagNames))
	case c.Concurrency < 0:
		return c, errors.New("harness: negative concurrency")
	case c.Explore < 0 || c.Explore > 1:
		return c, errors.New("harness: exploration outside 0..1")
	case c.DHTServers < 0:
		return c, errors.New("harness: negative number of DHT servers")
	case c.ConnLow < 0 || c.ConnHigh < 0 || (c.ConnHigh > 0 && c.ConnLow >= c.ConnHigh):
		return c, fmt.Errorf("harness: connection limits %d/%d (want 0 < low < high)", c.ConnLow, c.ConnHigh)
	}
	if c.OutDir == "" {
		c.OutDir = fmt.Sprintf("testnet-%d-%s", c.Seed, c.Selection)
	}
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
	if c.Explore == 0 {
		c.Explore = 0.1
	}
	if c.SnapshotEvery <= 0 {
		c.SnapshotEvery = 30 * time.Second
		if c.Duration < 3*time.Minute {
			c.SnapshotEvery = max(sampleEvery, c.Duration/6)
		}
	}
	if c.StartBatch <= 0 {
		c.StartBatch = 50
	}
	if c.ConnLow == 0 {
		c.ConnLow = 32
	}
	if c.ConnHigh == 0 {
		c.ConnHigh = max(96, c.ConnLow+1)
	}
	if c.DHTServers == 0 {
		c.DHTServers = max(20, c.Nodes/50)
	}
	c.DHTServers = min(c.DHTServers, c.Nodes)
	if c.Observers <= 0 {
		c.Observers = 3
	}
	c.Observers = min(c.Observers, c.Nodes/2)
	if c.TaskTimeout <= 0 {
		c.TaskTimeout = 30 * time.Second
	}
	if c.FindTTL <= 0 {
		c.FindTTL = 5 * time.Minute
	}
	if c.FindSlots <= 0 {
		c.FindSlots = 8
	}
	if c.ChurnDowntime <= 0 {
		c.ChurnDowntime = 5 * time.Second
	}
	return c, nil
}
