package harness

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/pilot-agents/pilot/reputation/score"
)

func TestConfigDefaultsAndRefusals(t *testing.T) {
	c, err := Config{Seed: 7}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Nodes != 100 || c.Duration != 10*time.Minute || c.Selection != SelectReputation || c.Concurrency != 16 ||
		c.ConnLow != 32 || c.ConnHigh != 96 || c.OutDir != "testnet-7-reputation" || c.Observers != 3 || c.DHTServers != 20 {
		t.Errorf("defaults: %+v", c)
	}
	// DHT servers: a fiftieth of the nodes, at least 20, at most all.
	for nodes, want := range map[int]int{12: 12, 20: 20, 100: 20, 1000: 20, 5000: 100} {
		if c, err := (Config{Nodes: nodes}).withDefaults(); err != nil || c.DHTServers != want {
			t.Errorf("%d nodes: %d DHT servers, want %d (%v)", nodes, c.DHTServers, want, err)
		}
	}
	if c, _ := (Config{Nodes: 50, DHTServers: 80}).withDefaults(); c.DHTServers != 50 {
		t.Errorf("80 DHT servers of 50 nodes: %d, want 50", c.DHTServers)
	}
	for name, bad := range map[string]Config{
		"too few nodes":    {Nodes: 3},
		"negative time":    {Duration: -time.Second},
		"unknown arm":      {Selection: "popular"},
		"churn above 1":    {Churn: 1.5},
		"sybil above half": {Sybil: 0.6},
		"too many tags":    {Tags: 99},
		"explore above 1":  {Explore: 2},
		"negative workers": {Concurrency: -1},
		"low above high":   {ConnLow: 50, ConnHigh: 40},
		"negative servers": {DHTServers: -1},
	} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "harness: ") {
			t.Errorf("%s: error %q does not name the package", name, err)
		}
	}
}

// TestAgentsDeterministic: the same seed gives the same agents; another
// seed other ones; Sybils get the low quality and the popular tags, and
// observers are never Sybils.
func TestAgentsDeterministic(t *testing.T) {
	cfg, _ := Config{Nodes: 200, Seed: 1, Sybil: 0.2}.withDefaults()
	a, b := newAgents(cfg), newAgents(cfg)
	cfg2 := cfg
	cfg2.Seed = 2
	c := newAgents(cfg2)
	same, sybils := 0, 0
	for i := range a {
		if a[i].quality != b[i].quality || strings.Join(a[i].tags, ",") != strings.Join(b[i].tags, ",") || a[i].sybil != b[i].sybil {
			t.Fatalf("agent %d differs between two builds with one seed", i)
		}
		if a[i].quality == c[i].quality {
			same++
		}
		if a[i].sybil {
			sybils++
			if a[i].observer || a[i].quality != sybilQuality || a[i].tags[0] != TagNames[0] {
				t.Errorf("sybil %d: %+v", i, a[i])
			}
		} else if a[i].quality < honestQualityLo || a[i].quality > honestQualityHi || len(a[i].tags) < 1 || len(a[i].tags) > 3 {
			t.Errorf("agent %d: quality %v tags %v", i, a[i].quality, a[i].tags)
		}
	}
	if sybils != 40 {
		t.Errorf("%d sybils, want 40", sybils)
	}
	if same > 40 { // only the Sybils' fixed quality may coincide
		t.Errorf("%d agents equal under another seed", same)
	}
}

// fixedScores is a scorer with given Polo scores.
type fixedScores map[peer.ID]int

func (f fixedScores) PoloScore(p peer.ID) score.Detail { return score.Detail{Polo: f[p]} }
func (f fixedScores) Choose(rng *rand.Rand, cands []peer.ID, explore float64) peer.ID {
	best := cands[0]
	for _, c := range cands {
		if f[c] > f[best] {
			best = c
		}
	}
	return best
}

// TestChooseArms: random is uniform and blind to scores; reputation asks
// the scorer; shuffled keeps the scores but not their owners; every arm
// is deterministic for an rng state.
func TestChooseArms(t *testing.T) {
	cands := []peer.ID{"a", "b", "c", "d"}
	s := fixedScores{"a": 900, "b": 0, "c": 0, "d": 0}
	counts := map[Selection]map[peer.ID]int{}
	for _, sel := range Selections {
		counts[sel] = map[peer.ID]int{}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 4000 {
			counts[sel][choose(rng, sel, cands, s, 0.1)]++
		}
		r1, r2 := rand.New(rand.NewPCG(5, 5)), rand.New(rand.NewPCG(5, 5))
		if choose(r1, sel, cands, s, 0.1) != choose(r2, sel, cands, s, 0.1) {
			t.Errorf("%s: not deterministic", sel)
		}
	}
	if counts[SelectReputation]["a"] != 4000 {
		t.Errorf("reputation did not ask the scorer: %v", counts[SelectReputation])
	}
	for _, c := range cands {
		if n := counts[SelectRandom][c]; math.Abs(float64(n)-1000) > 150 {
			t.Errorf("random: %s chosen %d times of 4000", c, n)
		}
	}
	// Shuffled: the one high score lands on each candidate in turn, so no
	// candidate keeps a's advantage.
	if n := counts[SelectShuffled]["a"]; n > 1500 {
		t.Errorf("shuffled kept the score with its owner: %v", counts[SelectShuffled])
	}
}

func TestDemandAndOutcomeDraws(t *testing.T) {
	d := newDemand(10)
	rng := rand.New(rand.NewPCG(3, 3))
	hits := make([]int, 10)
	for range 100000 {
		hits[d.draw(rng)]++
	}
	for k := 1; k < 10; k++ {
		if hits[k] > hits[k-1]+500 {
			t.Errorf("tag %d drawn %d times, more than tag %d (%d)", k, hits[k], k-1, hits[k-1])
		}
	}
	if r := float64(hits[0]) / float64(hits[9]); r < 8 || r > 12 {
		t.Errorf("first/last tag ratio %.1f, want about 10", r)
	}
	below := 0
	for i := range 10000 {
		u := unit(1, "task-"+string(rune('a'+i%26))+strings.Repeat("x", i%7)+string(rune(i)))
		if u < 0 || u >= 1 {
			t.Fatalf("unit %v outside [0,1)", u)
		}
		if u < 0.3 {
			below++
		}
	}
	if below < 2700 || below > 3300 {
		t.Errorf("%d of 10000 draws under 0.3", below)
	}
	if unit(1, "x") != unit(1, "x") || unit(1, "x") == unit(2, "x") {
		t.Error("outcome draw not a function of seed and task ID")
	}
}

func TestSpearman(t *testing.T) {
	x := []float64{1, 2, 3, 4, 5}
	if r := spearman(x, []float64{10, 20, 30, 40, 50}); math.Abs(r-1) > 1e-12 {
		t.Errorf("monotone: %v", r)
	}
	if r := spearman(x, []float64{5, 4, 3, 2, 1}); math.Abs(r+1) > 1e-12 {
		t.Errorf("reversed: %v", r)
	}
	if r := spearman(x, []float64{1, 1, 1, 1, 1}); r != 0 {
		t.Errorf("constant: %v", r)
	}
	if got := ranks([]float64{3, 1, 3}); got[0] != 2.5 || got[1] != 1 || got[2] != 2.5 {
		t.Errorf("ties: %v", got)
	}
}

func TestCause(t *testing.T) {
	err := fmt.Errorf("dht: publish profile of abc: %w", errors.New("failed to find any peer in table"))
	if got := cause(err); got != "failed to find any peer in table" {
		t.Errorf("cause = %q", got)
	}
	if got := cause(errors.New("plain")); got != "plain" {
		t.Errorf("cause = %q", got)
	}
}

// TestServerConns: a DHT server has room for every node, and the resource
// manager's limits for that budget admit its ConnHigh (node.New refuses a
// ConnHigh at or above the limit).
func TestServerConns(t *testing.T) {
	for _, nodes := range []int{12, 100, 1000, 5000} {
		cfg, err := Config{Nodes: nodes}.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		low, high := serverConns(cfg)
		if low < nodes || high <= low || high < 4*cfg.ConnHigh {
			t.Errorf("%d nodes: server water marks %d/%d", nodes, low, high)
		}
		limits := rcmgr.DefaultLimits
		libp2p.SetDefaultServiceLimits(&limits)
		sys := limits.Scale(connBudget(high), 256).ToPartialLimitConfig().System
		if int(sys.ConnsInbound) <= high || int(sys.Conns) <= high {
			t.Errorf("%d nodes: budget admits %d inbound, %d in all; ConnHigh %d", nodes, sys.ConnsInbound, sys.Conns, high)
		}
	}
}
