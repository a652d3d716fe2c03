package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"

	"github.com/pilot-agents/pilot/dht"
	"github.com/pilot-agents/pilot/node"
	"github.com/pilot-agents/pilot/node/ports"
)

// churnProfile is the size of a churn test: the mesh, the share of it
// that leaves and rejoins, the resolutions measured and the workers.
type churnProfile struct {
	name      string
	nodes     int
	churnPart float64 // share of the nodes that keep leaving and rejoining
	probes    int     // measured resolution attempts
	probers   int     // probes in flight at once
	churners  int     // leave/rejoin cycles in flight at once
	downFor   int     // probes completed while a churned node is down
	// publishWait bounds the wait for every node's first record after
	// the start, deadline the whole test.
	publishWait, deadline time.Duration
}

// republishEvery is every node's RepublishInterval in the churn test:
// short, so that the whole mesh republishes once under churn before the
// measurement starts.
const republishEvery = 30 * time.Second

// domainProbe seeds the probes' choices of prober and target.
const domainProbe = 0x70726f62652e2e2e // "probe..."

// currentChurnProfile is the CI profile unless PILOT_LONG=1 asks for
// the 200-node mesh, or a -race build for a 30-node one
// (docs/performance.md, "Churn").
func currentChurnProfile() churnProfile {
	switch {
	case os.Getenv("PILOT_LONG") == "1":
		return churnProfile{name: "long", nodes: 200, churnPart: 0.2, probes: 2000, probers: 8, churners: 8, downFor: 8, publishWait: 5 * time.Minute, deadline: 30 * time.Minute}
	case raceEnabled:
		return churnProfile{name: "race", nodes: 30, churnPart: 0.2, probes: 150, probers: 4, churners: 2, downFor: 4, publishWait: 5 * time.Minute, deadline: 15 * time.Minute}
	}
	return churnProfile{name: "ci", nodes: 60, churnPart: 0.2, probes: 300, probers: 6, churners: 3, downFor: 6, publishWait: 3 * time.Minute, deadline: 10 * time.Minute}
}

// TestChurnResolution runs a mesh where a fifth of the nodes keep
// leaving (Close) and rejoining (a new node with the same identity, so
// the same Pilot address, on a new port, joining through DHT servers),
// and checks that once every node has republished under churn, at least
// 99 % of the resolutions of live nodes, from random live nodes, return
// the target's current record: node.Resolve, then the record's addresses
// include the target's current listen address, then an echo over a
// connection to it succeeds.
func TestChurnResolution(t *testing.T) {
	if testing.Short() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the churn test must run in CI (-short is set)")
		}
		t.Skip("starts a mesh of dozens of nodes")
	}
	defer goleak.VerifyNone(t, leakOptions()...)
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	}
	prof := currentChurnProfile()
	ctx, cancel := context.WithTimeout(context.Background(), prof.deadline)
	defer cancel()

	cfg, err := Config{Nodes: prof.nodes, Seed: 9, OutDir: t.TempDir()}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	net, err := newTestnet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	net.nodeConfig = func(idx int) node.Config {
		c := net.baseConfig(idx)
		c.RepublishInterval = republishEvery
		return c
	}
	// Echo is closed to untrusted peers by default; the probes use it to
	// prove that the resolved record reaches the node.
	net.profile = func(_ int, n *node.Node) error { return n.SetPortPublic(ports.PortEcho, true) }
	defer net.closeAll()

	t0 := time.Now()
	if err := net.start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	started := time.Since(t0)
	if err := waitUntil(ctx, prof.publishWait, func() error {
		if n := publishedCount(net, time.Time{}); n < prof.nodes {
			return fmt.Errorf("%d of %d nodes have published their record (last attempts: %s)", n, prof.nodes, publishErrors(net))
		}
		return nil
	}); err != nil {
		for _, line := range unpublishedNodes(net) {
			t.Log(line)
		}
		t.Fatal(err)
	}
	t.Logf("profile %s: %d nodes (%d DHT servers) started in %s, all published by %s",
		prof.name, prof.nodes, cfg.DHTServers, rnd(started), rnd(time.Since(t0)))

	c := newChurnRun(net, prof, cfg.Seed)
	runCtx, stop := context.WithCancel(ctx)
	var loops sync.WaitGroup
	for w := range prof.churners {
		loops.Go(func() { c.churnLoop(runCtx, w) })
	}
	for w := range prof.probers {
		loops.Go(func() { c.probeLoop(runCtx, w) })
	}
	// One republish interval under churn: every node that has stayed up
	// since the churn began has republished since (the churned ones
	// publish when they rejoin, and are only probed once they have).
	churnStart := time.Now()
	steady := net.running()
	werr := waitUntil(ctx, 4*republishEvery, func() error {
		waiting := 0
		for i, m := range net.members {
			if nd := m.get(); nd != nil && nd == steady[i] && !published(nd, churnStart) {
				waiting++
			}
		}
		if waiting > 0 {
			return fmt.Errorf("%d steady nodes have not republished since the churn began", waiting)
		}
		return nil
	})
	c.measuring.Store(true)
	measureStart := time.Now()
	// Measure at least prof.probes attempts, and for as long as the
	// churned nodes take to rejoin once each on average.
	rejoinsBefore := c.rejoined.count()
	if werr == nil {
		werr = c.measured.wait(ctx, prof.probes)
	}
	if werr == nil {
		werr = c.rejoined.wait(ctx, rejoinsBefore+len(c.churnSet))
	}
	measuredRejoins := c.rejoined.count() - rejoinsBefore
	stop()
	loops.Wait()
	measured := time.Since(measureStart)
	if werr != nil {
		t.Fatalf("%v (%d of %d measured probes done, %d of %d rejoins)", werr, c.measured.count(), prof.probes, measuredRejoins, len(c.churnSet))
	}

	s := c.summary()
	t.Logf("warm-up: %s, %d probes, %d resolved current (%.2f %%)", measureStart.Sub(churnStart).Round(time.Second),
		s.warm.attempts, s.warm.ok, 100*s.warm.share())
	t.Logf("measured over %s: %d of %d live-node resolutions current and echoed: %.2f %% (%d of them targets that had rejoined: %d ok)",
		measured.Round(time.Second), s.meas.ok, s.meas.attempts, 100*s.meas.share(), s.meas.rejoinedAttempts, s.meas.rejoinedOK)
	t.Logf("leave/rejoin events: %d leaves, %d rejoins (%d while measuring), %d failed rejoins (%d churned nodes, %d in flight at once)",
		c.leaves.Load(), c.rejoined.count(), measuredRejoins, c.rejoinFailures.Load(), len(c.churnSet), prof.churners)
	t.Logf("rejoin to new record published (%d rejoins): p50 %s p90 %s max %s",
		len(s.rejoins), rnd(quantile(s.rejoins, 0.5)), rnd(quantile(s.rejoins, 0.9)), rnd(quantile(s.rejoins, 1)))
	t.Logf("resolution latency (measured, successful resolves): p50 %s p90 %s p99 %s max %s",
		s.meas.latency(0.50), s.meas.latency(0.90), s.meas.latency(0.99), s.meas.latency(1))
	t.Logf("discarded (prober or target left during the probe): %d; draws without a published live target: %d",
		s.meas.discarded, c.noTarget.Load())
	t.Logf("failures by cause: %s", s.meas.causes())
	if s.meas.attempts < prof.probes {
		t.Errorf("%d measured attempts, want %d", s.meas.attempts, prof.probes)
	}
	if c.leaves.Load() == 0 || measuredRejoins == 0 || s.meas.rejoinedAttempts == 0 {
		t.Errorf("no churn exercised: %d leaves, %d rejoins while measuring, %d probes of rejoined targets",
			c.leaves.Load(), measuredRejoins, s.meas.rejoinedAttempts)
	}
	if n := c.rejoinFailures.Load(); n > 0 {
		t.Errorf("%d rejoins failed: the node did not start, or had not published its record within %s", n, rejoinWait)
	}
	// The criterion: a count of attempts, not a timing.
	if s.meas.ok*100 < 99*s.meas.attempts {
		t.Errorf("%d of %d resolutions of live nodes were current (%.2f %%), want at least 99 %%",
			s.meas.ok, s.meas.attempts, 100*s.meas.share())
	}
}

// waitUntil polls cond until it returns nil, ctx ends or limit passes.
func waitUntil(ctx context.Context, limit time.Duration, cond func() error) error {
	deadline := time.Now().Add(limit)
	backoff := 50 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", limit, err)
		}
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-timer.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// publishedCount is the number of running nodes whose last publication of
// their address record succeeded after since.
func publishedCount(net *testnet, since time.Time) int {
	n := 0
	for _, m := range net.members {
		if nd := m.get(); nd != nil && published(nd, since) {
			n++
		}
	}
	return n
}

// publishErrors counts the running nodes by the outcome of their last
// publication: "none yet" or the error's cause.
func publishErrors(net *testnet) string {
	byCause := map[string]int{}
	for _, m := range net.members {
		if nd := m.get(); nd != nil {
			switch at, _, err := nd.DHT().LastPublish(); {
			case err != nil:
				byCause[cause(err)]++
			case at.IsZero():
				byCause["none yet"]++
			}
		}
	}
	return phaseStats{failures: byCause}.causes()
}

// unpublishedNodes describes each running node that has not published
// its record yet: its DHT mode, routing table and connections.
func unpublishedNodes(net *testnet) []string {
	var out []string
	for i, m := range net.members {
		nd := m.get()
		if nd == nil || published(nd, time.Time{}) {
			continue
		}
		servers := 0
		peers := nd.Host().Network().Peers()
		for _, p := range peers {
			if j, ok := net.byPeer[p]; ok && j < net.cfg.DHTServers {
				servers++
			}
		}
		_, _, err := nd.DHT().LastPublish()
		out = append(out, fmt.Sprintf("node %d (DHT %s) not published: routing table %d, connected to %d peers (%d DHT servers), last error %v",
			i, nd.DHT().Mode(), nd.DHT().RoutingTableSize(), len(peers), servers, err))
	}
	return out
}

// published reports whether nd's last publication succeeded after since.
func published(nd *node.Node, since time.Time) bool {
	at, seq, err := nd.DHT().LastPublish()
	return err == nil && seq > 0 && at.After(since)
}

// events counts something and wakes whoever waits for the count to reach
// a value.
type events struct {
	mu sync.Mutex
	n  int
	ch chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{})} }

func (e *events) add() {
	e.mu.Lock()
	e.n++
	close(e.ch)
	e.ch = make(chan struct{})
	e.mu.Unlock()
}

func (e *events) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n
}

// wait returns once the count reaches n, or ctx's error.
func (e *events) wait(ctx context.Context, n int) error {
	for {
		e.mu.Lock()
		got, ch := e.n, e.ch
		e.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// churnRun is the churn and the probes of one test.
type churnRun struct {
	net  *testnet
	prof churnProfile
	seed uint64

	churnSet  []int
	claimMu   sync.Mutex
	claimed   map[int]bool // churned nodes a churn loop is cycling now
	measuring atomic.Bool

	probed   *events // probes finished, in any phase
	measured *events // measured probes finished

	rejoined                         *events // rejoins completed
	leaves, rejoinFailures, noTarget atomic.Int64

	resMu       sync.Mutex
	results     []probeResult
	rejoinTimes []time.Duration // from a rejoin's start to its record's publication
}

func newChurnRun(net *testnet, prof churnProfile, seed uint64) *churnRun {
	n := len(net.members)
	k := max(1, int(prof.churnPart*float64(n)+0.5))
	perm := newRand(seed, domainChurn, 1).Perm(n)
	return &churnRun{net: net, prof: prof, seed: seed, churnSet: perm[:k], claimed: map[int]bool{},
		probed: newEvents(), measured: newEvents(), rejoined: newEvents()}
}

// claim picks a churned node that is up, has published its record since
// it (re)joined and no other loop is cycling; -1 if there is none.
func (c *churnRun) claim(rng *rand.Rand) int {
	c.claimMu.Lock()
	defer c.claimMu.Unlock()
	for _, j := range rng.Perm(len(c.churnSet)) {
		idx := c.churnSet[j]
		if c.claimed[idx] {
			continue
		}
		if nd := c.net.members[idx].get(); nd != nil && published(nd, time.Time{}) {
			c.claimed[idx] = true
			return idx
		}
	}
	return -1
}

func (c *churnRun) release(idx int) {
	c.claimMu.Lock()
	delete(c.claimed, idx)
	c.claimMu.Unlock()
}

// churnLoop cycles churned nodes until ctx ends: it picks one that is up
// and has published its record, closes it (a leave), waits while downFor
// probes complete, and starts it again with the same identity on a new
// port (a rejoin), which ends once the node has published its new
// record. Pacing by probes rather than by the clock keeps the nodes down
// for as many probes whatever the machine's speed.
func (c *churnRun) churnLoop(ctx context.Context, w int) {
	rng := newRand(c.seed, domainChurn, uint64(2+w))
	for ctx.Err() == nil {
		idx := c.claim(rng)
		if idx < 0 {
			// Every churned node is down, claimed or still publishing:
			// try again after the next probe.
			if c.probed.wait(ctx, c.probed.count()+1) != nil {
				return
			}
			continue
		}
		c.net.stopMember(idx)
		c.leaves.Add(1)
		if c.probed.wait(ctx, c.probed.count()+c.prof.downFor) != nil {
			return // the test ends with the node down
		}
		if c.rejoin(ctx, idx) {
			c.rejoined.add()
		} else {
			c.rejoinFailures.Add(1)
		}
		c.release(idx)
	}
}

// rejoinWait bounds the wait for a rejoined node's first publication.
const rejoinWait = 2 * time.Minute

// rejoin starts member idx again with its identity and waits until it
// has published its new record, which makes it a live target again and
// ends the leave/rejoin event; it records how long that took. It reports
// whether the node started and published (or the test ended first).
func (c *churnRun) rejoin(ctx context.Context, idx int) bool {
	begin := time.Now()
	if err := c.net.restartMember(ctx, idx); err != nil {
		return false
	}
	nd := c.net.members[idx].get()
	err := waitUntil(ctx, rejoinWait, func() error {
		if !published(nd, begin) {
			return errors.New("record not published yet")
		}
		return nil
	})
	switch {
	case err == nil:
		at, _, _ := nd.DHT().LastPublish()
		c.resMu.Lock()
		c.rejoinTimes = append(c.rejoinTimes, at.Sub(begin))
		c.resMu.Unlock()
		return true
	case ctx.Err() != nil:
		return true // the test ended first: not a failure of the node
	default:
		return false
	}
}

// probeResult is the outcome of one resolution attempt.
type probeResult struct {
	measured  bool
	discarded bool // the prober or the target left during the attempt
	rejoined  bool // the target had left and rejoined before
	cause     string
	resolve   time.Duration // of a successful node.Resolve
}

// pickLive draws a member that is up, and with needPublished one whose
// current incarnation has published its record, other than not; -1 if
// 64 draws find none.
func (c *churnRun) pickLive(rng *rand.Rand, not int, needPublished bool) (int, *node.Node) {
	for range 64 {
		i := rng.IntN(len(c.net.members))
		if i == not {
			continue
		}
		if nd := c.net.members[i].get(); nd != nil && (!needPublished || published(nd, time.Time{})) {
			return i, nd
		}
	}
	return -1, nil
}

// probeLoop resolves random live nodes from random live nodes until ctx
// ends.
func (c *churnRun) probeLoop(ctx context.Context, w int) {
	rng := newRand(c.seed, domainProbe, uint64(w))
	for ctx.Err() == nil {
		measured := c.measuring.Load()
		from, fromN := c.pickLive(rng, -1, false)
		to, toN := c.pickLive(rng, from, true)
		if from < 0 || to < 0 {
			c.noTarget.Add(1)
			if c.probed.wait(ctx, c.probed.count()+1) != nil {
				return
			}
			continue
		}
		m := c.net.members[to]
		m.mu.RLock()
		rejoined := m.restarts > 0
		m.mu.RUnlock()
		r := probe(ctx, fromN, toN, fmt.Sprintf("probe %d>%d w%d", from, to, w))
		r.measured, r.rejoined = measured, rejoined
		r.discarded = c.net.members[from].get() != fromN || c.net.members[to].get() != toN
		if ctx.Err() != nil && !r.discarded && r.cause != "" {
			r.discarded = true // the test ended under the attempt
		}
		c.resMu.Lock()
		c.results = append(c.results, r)
		c.resMu.Unlock()
		c.probed.add()
		if measured && !r.discarded {
			c.measured.add()
		}
	}
}

// probeTimeout bounds one attempt (resolution and echo).
const probeTimeout = 30 * time.Second

// probe resolves to's address from from through the DHT, checks that the
// record names to's peer and one of its current listen addresses, and
// echoes text over a connection to it. cause is "" on success.
func probe(ctx context.Context, from, to *node.Node, text string) probeResult {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	current := to.Host().Addrs()
	_, curSeq, _ := to.DHT().LastPublish()
	start := time.Now()
	res, err := from.Resolve(ctx, to.Addr())
	took := time.Since(start)
	switch {
	case errors.Is(err, dht.ErrNotFound):
		return probeResult{cause: "resolve: not found"}
	case err != nil:
		return probeResult{cause: "resolve: " + firstCause(err)}
	case res.Record.PeerID != to.PeerID():
		return probeResult{cause: "resolve: record names another peer"}
	case !slices.ContainsFunc(res.Record.Addrs, func(a ma.Multiaddr) bool {
		return slices.ContainsFunc(current, a.Equal)
	}):
		kind := "older"
		if res.Record.Seq >= curSeq {
			kind = "current seq"
		}
		return probeResult{cause: "resolve: stale record (addresses of an earlier incarnation, " + kind + ")"}
	}
	out, _, err := from.Echo(ctx, to.Addr(), text)
	switch {
	case err != nil:
		return probeResult{cause: "echo: " + firstCause(err), resolve: took}
	case out != text:
		return probeResult{cause: "echo: wrong reply", resolve: took}
	}
	return probeResult{resolve: took}
}

// firstCause is cause(err) read from the first line of the error's text
// (a failed dial lists every address tried on the lines below, and the
// ports would make every failure a cause of its own).
func firstCause(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return cause(errors.New(line))
}

// phaseStats are the figures of one phase.
type phaseStats struct {
	attempts, ok, discarded      int
	rejoinedAttempts, rejoinedOK int
	latencies                    []time.Duration
	failures                     map[string]int
}

func (p phaseStats) share() float64 {
	if p.attempts == 0 {
		return 0
	}
	return float64(p.ok) / float64(p.attempts)
}

// latency is the q-quantile of the successful resolutions' durations.
func (p phaseStats) latency(q float64) time.Duration {
	return quantile(p.latencies, q).Round(100 * time.Microsecond)
}

func rnd(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// causes lists the failures, commonest first.
func (p phaseStats) causes() string {
	if len(p.failures) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(p.failures))
	for k := range p.failures {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if p.failures[keys[i]] != p.failures[keys[j]] {
			return p.failures[keys[i]] > p.failures[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%d × %s", p.failures[k], k)
	}
	return b.String()
}

type churnSummary struct {
	warm, meas phaseStats
	rejoins    []time.Duration // sorted
}

func (c *churnRun) summary() churnSummary {
	c.resMu.Lock()
	defer c.resMu.Unlock()
	s := churnSummary{warm: phaseStats{failures: map[string]int{}}, meas: phaseStats{failures: map[string]int{}}}
	for _, r := range c.results {
		p := &s.warm
		if r.measured {
			p = &s.meas
		}
		if r.discarded {
			p.discarded++
			continue
		}
		p.attempts++
		if r.rejoined {
			p.rejoinedAttempts++
		}
		if r.resolve > 0 {
			p.latencies = append(p.latencies, r.resolve)
		}
		if r.cause != "" {
			p.failures[r.cause]++
			continue
		}
		p.ok++
		if r.rejoined {
			p.rejoinedOK++
		}
	}
	for _, p := range []*phaseStats{&s.warm, &s.meas} {
		slices.Sort(p.latencies)
	}
	s.rejoins = slices.Sorted(slices.Values(c.rejoinTimes))
	return s
}
