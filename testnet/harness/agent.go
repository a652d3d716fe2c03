package harness

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/reputation"
	"github.com/pilot-agents/pilot/reputation/score"
)

// Agent parameters.
const (
	// honestQualityLo and honestQualityHi bound an honest agent's hidden
	// quality, drawn uniformly.
	honestQualityLo, honestQualityHi = 0.3, 1.0
	// sybilQuality is the quality a Sybil shows honest requesters.
	sybilQuality = 0.2
	// sybilTags is how many of the most demanded tags Sybils advertise.
	sybilTags = 3
	// findTimeout bounds one tag lookup.
	findTimeout = 30 * time.Second
	// idlePause is how long an agent that found nobody to work for it
	// waits before it frees its place in the workload (so that a failing
	// lookup, which can end at once, does not spin).
	idlePause = time.Second
	// emptyTTL is how long an agent believes that nobody offers a tag.
	emptyTTL = 15 * time.Second
)

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// agent is the workload of one member. Its choice state (rng, dir) is
// used by one act at a time: the dispatcher starts an act only on an
// agent that is not busy.
type agent struct {
	idx      int
	sybil    bool
	observer bool
	quality  float64
	tags     []string

	busy atomic.Bool
	acts atomic.Int32

	rng *rand.Rand          // choices; one act at a time
	dir map[string]dirEntry // providers by tag; one act at a time
}

// dirEntry is a cached list of providers of a tag (member indices,
// sorted).
type dirEntry struct {
	providers []int
	at        time.Time
}

// newAgents draws every agent's quality, tags and Sybil membership from
// the seed. The first cfg.Observers agents are honest observers.
func newAgents(cfg Config) []*agent {
	agents := make([]*agent, cfg.Nodes)
	sybils := make([]bool, cfg.Nodes)
	nSybil := int(math.Round(cfg.Sybil * float64(cfg.Nodes)))
	if nSybil == 1 {
		nSybil = 2 // a collective of one cannot attest itself
	}
	nSybil = min(nSybil, cfg.Nodes-cfg.Observers)
	r := newRand(cfg.Seed, domainSybil, 0)
	for _, i := range r.Perm(cfg.Nodes - cfg.Observers)[:nSybil] {
		sybils[cfg.Observers+i] = true
	}
	for i := range agents {
		r := newRand(cfg.Seed, domainSetup, uint64(i))
		a := &agent{idx: i, sybil: sybils[i], observer: i < cfg.Observers,
			rng: newRand(cfg.Seed, domainChoice, uint64(i)), dir: map[string]dirEntry{}}
		if a.sybil {
			a.quality = sybilQuality
			a.tags = slices.Clone(TagNames[:min(sybilTags, cfg.Tags)])
		} else {
			a.quality = honestQualityLo + (honestQualityHi-honestQualityLo)*r.Float64()
			k := 1 + r.IntN(min(3, cfg.Tags))
			for _, j := range r.Perm(cfg.Tags)[:k] {
				a.tags = append(a.tags, TagNames[j])
			}
			slices.Sort(a.tags)
		}
		agents[i] = a
	}
	return agents
}

// demand is the distribution of the tags agents need: Zipf-like, tag k
// (0-based) wanted in proportion to 1/(k+1), so the first tags are the
// popular ones.
type demand []float64 // cumulative

func newDemand(tags int) demand {
	d := make(demand, tags)
	sum := 0.0
	for k := range tags {
		sum += 1 / float64(k+1)
		d[k] = sum
	}
	for k := range d {
		d[k] /= sum
	}
	return d
}

// draw returns a tag index.
func (d demand) draw(r *rand.Rand) int {
	k, _ := slices.BinarySearch(d, r.Float64())
	return min(k, len(d)-1)
}

// scorer is what choose needs from a node: *node.Node is one.
type scorer interface {
	Choose(rng *rand.Rand, candidates []peer.ID, explore float64) peer.ID
	PoloScore(p peer.ID) score.Detail
}

// choose picks a worker among candidates (never empty) by the arm sel:
// reputation asks the node (node.Choose), random draws uniformly, and
// shuffled applies reputation.Choose to the candidates' scores permuted
// among them. For a given rng state, candidates and scores the choice is
// deterministic.
func choose(rng *rand.Rand, sel Selection, candidates []peer.ID, s scorer, explore float64) peer.ID {
	switch sel {
	case SelectRandom:
		return candidates[rng.IntN(len(candidates))]
	case SelectShuffled:
		scores := make([]int, len(candidates))
		for i, c := range candidates {
			scores[i] = s.PoloScore(c).Polo
		}
		perm := rng.Perm(len(candidates))
		shuffled := make(map[peer.ID]int, len(candidates))
		for i, c := range candidates {
			shuffled[c] = scores[perm[i]]
		}
		return reputation.Choose(rng, candidates, func(p peer.ID) int { return shuffled[p] }, explore)
	default:
		return s.Choose(rng, candidates, explore)
	}
}

// unit is a deterministic number in [0, 1) from the seed and a task ID:
// the draw that decides a task's outcome.
func unit(seed uint64, taskID string) float64 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed^domainOutcome)
	h := sha256.Sum256(append(b[:], taskID...))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// workload is the agents and what they share.
type workload struct {
	cfg    Config
	net    *testnet
	agents []*agent
	demand demand
	rec    *recorder

	findSlots chan struct{}
}

func newWorkload(cfg Config, net *testnet, agents []*agent, rec *recorder) *workload {
	return &workload{cfg: cfg, net: net, agents: agents, demand: newDemand(cfg.Tags), rec: rec,
		findSlots: make(chan struct{}, cfg.FindSlots)}
}

// work is member idx's task handler (node.Config.TaskFunc): the task
// succeeds with the worker's quality, decided by the task ID and the
// seed; a Sybil's work for another Sybil always "succeeds".
func (w *workload) work(idx int) func(ctx context.Context, t task.Task) (json.RawMessage, string) {
	a := w.agents[idx]
	return func(_ context.Context, t task.Task) (json.RawMessage, string) {
		if req, ok := w.net.byPeer[t.Requester]; ok && a.sybil && w.agents[req].sybil {
			return json.RawMessage(`{"done":true}`), ""
		}
		if unit(w.cfg.Seed, t.ID) < a.quality {
			return json.RawMessage(`{"done":true}`), ""
		}
		return nil, "the result did not pass the requester's check"
	}
}

// profile publishes member idx's tags.
func (w *workload) profile(idx int, n *node.Node) error {
	_, err := n.SetProfile(nil, w.agents[idx].tags)
	return err
}

// act runs one action of agent a: for an honest agent, one task with a
// demanded tag to a worker it finds and chooses; for a Sybil, one fake
// task to another Sybil. It clears a.busy when done.
func (w *workload) act(ctx context.Context, a *agent) {
	defer a.busy.Store(false)
	a.acts.Add(1)
	n := w.net.members[a.idx].get()
	if n == nil {
		w.rec.outcome(a.idx, -1, outcomeDown, 0)
		return
	}
	if a.sybil {
		w.fake(ctx, a, n)
		return
	}
	tag := TagNames[w.demand.draw(a.rng)]
	provs, err := w.providers(ctx, a, n, tag)
	if err != nil {
		if ctx.Err() == nil {
			w.rec.outcome(a.idx, -1, outcomeFindFailed, 0)
			pause(ctx, idlePause)
		}
		return
	}
	cands := make([]peer.ID, 0, len(provs))
	for _, p := range provs {
		if p != a.idx {
			cands = append(cands, w.net.members[p].id)
		}
	}
	if len(cands) == 0 {
		w.rec.outcome(a.idx, -1, outcomeNoProvider, 0)
		pause(ctx, idlePause)
		return
	}
	chosen := w.net.byPeer[choose(a.rng, w.cfg.Selection, cands, n, w.cfg.Explore)]
	w.submit(ctx, a, n, chosen, tag)
}

// fake is a Sybil's task to another Sybil, chosen uniformly.
func (w *workload) fake(ctx context.Context, a *agent, n *node.Node) {
	var others []int
	for _, b := range w.agents {
		if b.sybil && b.idx != a.idx {
			others = append(others, b.idx)
		}
	}
	if len(others) == 0 {
		return
	}
	to := others[a.rng.IntN(len(others))]
	w.submit(ctx, a, n, to, a.tags[a.rng.IntN(len(a.tags))])
}

// submit sends one task to member to and waits for its end.
func (w *workload) submit(ctx context.Context, a *agent, n *node.Node, to int, tag string) {
	w.rec.routed(a.idx, to)
	input := fmt.Appendf(nil, `{"tag":%q,"n":%d}`, tag, a.acts.Load())
	tctx, cancel := context.WithTimeout(ctx, w.cfg.TaskTimeout+15*time.Second)
	defer cancel()
	// Connect first (SubmitTask does the same: it resolves the address
	// through the DHT unless already connected) to time the two apart.
	start := time.Now()
	if _, err := n.Connect(tctx, w.net.members[to].addr); err != nil {
		o := classify(err)
		if ctx.Err() != nil {
			o = outcomeInterrupted
		}
		w.rec.outcome(a.idx, to, o, time.Since(start))
		return
	}
	w.rec.connected(time.Since(start))
	start = time.Now()
	t, err := n.SubmitTask(tctx, w.net.members[to].addr, "work."+tag, input, w.cfg.TaskTimeout, true)
	lat := time.Since(start)
	switch {
	case err != nil && ctx.Err() != nil:
		w.rec.outcome(a.idx, to, outcomeInterrupted, lat)
	case err != nil:
		w.rec.outcome(a.idx, to, classify(err), lat)
	case t.State == task.StateSucceeded:
		w.rec.outcome(a.idx, to, outcomeSucceeded, lat)
	case t.State == task.StateFailed:
		w.rec.outcome(a.idx, to, outcomeFailed, lat)
	default: // expired, declined, cancelled
		w.rec.outcome(a.idx, to, taskOutcome(t.State), lat)
	}
}

// classify names a Connect or SubmitTask error.
func classify(err error) outcome {
	s := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return outcomeTimeout
	case errors.Is(err, node.ErrNotStarted) || errors.Is(err, task.ErrClosed):
		return outcomeDown
	case strings.Contains(s, "resolve"):
		return outcomeResolveFailed
	case errors.Is(err, node.ErrUnreachable):
		return outcomeUnreachable
	}
	return outcomeSubmitFailed
}

// providers returns the members that announced tag, from a's cache if it
// is younger than FindTTL, else from a provider search of its own
// (node.FindProviders; at most FindSlots run at once in the network).
func (w *workload) providers(ctx context.Context, a *agent, n *node.Node, tag string) ([]int, error) {
	if e, ok := a.dir[tag]; ok && (time.Since(e.at) < w.cfg.FindTTL && len(e.providers) > 0 || time.Since(e.at) < emptyTTL) {
		w.rec.find(findCached, 0)
		return e.providers, nil
	}
	select {
	case w.findSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-w.findSlots }()
	fctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	start := time.Now()
	ids, err := n.FindProviders(fctx, tag, 0)
	took := time.Since(start)
	if errors.Is(err, dht.ErrNotFound) { // nobody offers it: remember that too
		ids, err = nil, nil
	}
	if err != nil {
		w.rec.find(findFailed, took)
		return nil, err
	}
	provs := make([]int, 0, len(ids))
	for _, id := range ids {
		if i, ok := w.net.byPeer[id]; ok {
			provs = append(provs, i)
		}
	}
	slices.Sort(provs)
	provs = slices.Compact(provs)
	a.dir[tag] = dirEntry{providers: provs, at: time.Now()}
	w.rec.find(findOwn, took)
	return provs, nil
}
