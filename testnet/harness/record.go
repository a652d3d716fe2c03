package harness

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/testnet/analysis"
)

// outcome is how an action ended.
type outcome string

// Outcomes. Only succeeded and failed tasks complete an exchange (the
// worker's receipt, the requester's attestation) and make the two agents
// partners.
const (
	outcomeSucceeded     outcome = "succeeded"
	outcomeFailed        outcome = "failed"
	outcomeTimeout       outcome = "timeout"        // no end within the deadline (+15 s)
	outcomeResolveFailed outcome = "resolve_failed" // the worker's address not found in the DHT
	outcomeUnreachable   outcome = "unreachable"    // found but not reachable
	outcomeSubmitFailed  outcome = "submit_failed"  // refused or broken submission
	outcomeFindFailed    outcome = "find_failed"    // the tag lookup failed
	outcomeNoProvider    outcome = "no_provider"    // nobody else advertises the tag
	outcomeDown          outcome = "down"           // the requester's own node was down (churn)
	outcomeInterrupted   outcome = "interrupted"    // the run ended first
)

func (o outcome) completed() bool { return o == outcomeSucceeded || o == outcomeFailed }

// taskOutcome maps a final task state that is neither succeeded nor failed.
func taskOutcome(s task.State) outcome {
	if s == task.StateExpired {
		return outcomeTimeout
	}
	return outcomeSubmitFailed
}

// Find sources.
const (
	findOwn    = "own"
	findCached = "cached"
	findFailed = "failed"
)

// recorder collects what the workload does. Its methods are safe for
// concurrent use.
type recorder struct {
	sybil []bool

	mu       sync.Mutex
	counts   map[outcome]int
	pairs    map[uint64]bool // completed requester–worker pairs (lo<<32 | hi)
	degree   []int           // distinct partners per agent
	worked   []int           // completed tasks per agent as worker
	windowed window          // since the last take
	honest   routing         // whole run
	finds    map[string]int
	findTime time.Duration   // total duration of own lookups
	lats     []time.Duration // of every completed task, submission to end
	connLats []time.Duration // of every successful Connect before a task
	fakes    int             // completed Sybil-to-Sybil tasks
}

// window is what happened since the last take.
type window struct {
	completed int
	timeouts  int
	latencies []time.Duration // submission to end of completed tasks
	connLats  []time.Duration // Connects before tasks
	routing   routing
}

// add adds o's counts (not its latencies) to w.
func (w *window) add(o window) {
	w.completed += o.completed
	w.timeouts += o.timeouts
	w.routing.Honest += o.routing.Honest
	w.routing.ToSybil += o.routing.ToSybil
}

// routing counts where honest requesters sent their tasks.
type routing struct {
	Honest  int // tasks honest agents submitted
	ToSybil int // of them, to a Sybil
}

func newRecorder(sybil []bool) *recorder {
	return &recorder{sybil: sybil, counts: map[outcome]int{}, pairs: map[uint64]bool{},
		degree: make([]int, len(sybil)), worked: make([]int, len(sybil)), finds: map[string]int{}}
}

// routed notes that agent from submits a task to to.
func (r *recorder) routed(from, to int) {
	if r.sybil[from] {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.honest.Honest++
	r.windowed.routing.Honest++
	if r.sybil[to] {
		r.honest.ToSybil++
		r.windowed.routing.ToSybil++
	}
}

// outcome records the end of an action of agent from (to is the worker,
// -1 when none was chosen).
func (r *recorder) outcome(from, to int, o outcome, lat time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[o]++
	switch {
	case o.completed():
		r.windowed.completed++
		r.windowed.latencies = append(r.windowed.latencies, lat)
		r.lats = append(r.lats, lat)
		r.worked[to]++
		if r.sybil[from] && r.sybil[to] {
			r.fakes++
		}
		lo, hi := min(from, to), max(from, to)
		k := uint64(lo)<<32 | uint64(hi)
		if !r.pairs[k] {
			r.pairs[k] = true
			r.degree[from]++
			r.degree[to]++
		}
	case o == outcomeTimeout:
		r.windowed.timeouts++
	}
}

// connected records the time a Connect to a worker took.
func (r *recorder) connected(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connLats = append(r.connLats, d)
	r.windowed.connLats = append(r.windowed.connLats, d)
}

// find records a provider lookup.
func (r *recorder) find(source string, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finds[source]++
	if source == findOwn || source == findFailed {
		r.findTime += took
	}
}

// take returns the window since the last take and starts a new one.
func (r *recorder) take() window {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.windowed
	r.windowed = window{}
	return w
}

// degrees returns every agent's partner degree, by index.
func (r *recorder) degrees() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.degree)
}

// edges returns the partner graph, sorted.
func (r *recorder) edges() []analysis.Edge {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]analysis.Edge, 0, len(r.pairs))
	for k := range r.pairs {
		out = append(out, analysis.Edge{U: int64(k >> 32), V: int64(k & 0xffffffff)})
	}
	slices.SortFunc(out, func(a, b analysis.Edge) int {
		if a.U != b.U {
			return int(a.U - b.U)
		}
		return int(a.V - b.V)
	})
	return out
}

// snapshotCounts returns the outcomes so far.
func (r *recorder) snapshotCounts() map[outcome]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.counts)
}

// totals returns the completed (succeeded + failed), succeeded and
// failed tasks so far.
func (r *recorder) totals() (completed, succeeded, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[outcomeSucceeded] + r.counts[outcomeFailed], r.counts[outcomeSucceeded], r.counts[outcomeFailed]
}
