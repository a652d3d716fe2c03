package harness

import (
	"math"
	"time"

	"github.com/pilot-agents/pilot/testnet/analysis"
)

// snapshot records the partner degrees, the power-law fit of the degrees
// so far and the state of the network; w is the interval's window.
func (r *run) snapshot(w window) {
	degs := r.rec.degrees()
	m := make(map[int64]int, len(degs))
	edges, nodes, kmax := 0, 0, 0
	for i, d := range degs {
		m[int64(i)] = d
		edges += d
		if d > 0 {
			nodes++
		}
		kmax = max(kmax, d)
	}
	at := time.Since(r.started)
	done, _, _ := r.rec.totals()
	conns := r.connsPerNode()
	s := AlphaSample{Minutes: at.Minutes(), Nodes: nodes, Edges: edges / 2, Kmax: kmax, Tasks: done, ConnsPerNode: conns}
	if w.routing.Honest > 0 {
		s.SybilShare = float64(w.routing.ToSybil) / float64(w.routing.Honest)
	}
	if fit, err := analysis.FitPowerLaw(degs); err != nil {
		s.Error = err.Error()
	} else {
		se := (fit.Alpha - 1) / math.Sqrt(float64(fit.NTail))
		s.Alpha, s.Lo, s.Hi, s.Xmin, s.NTail = fit.Alpha, fit.Alpha-se, fit.Alpha+se, fit.Xmin, fit.NTail
	}
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	r.snapshots = append(r.snapshots, snapshot{at: at, degrees: m, polo: r.poloNow()})
	r.rep.AlphaOverTime = append(r.rep.AlphaOverTime, s)
	r.connRun = append(r.connRun, conns)
}

// finalSnapshot is the last snapshot, after the drain (none when the
// workload never started).
func (r *run) finalSnapshot() {
	if r.started.IsZero() {
		return
	}
	w := r.pending
	w.add(r.rec.take())
	r.snapshot(w)
}

// connsPerNode is the mean number of connections of the running nodes.
func (r *run) connsPerNode() float64 {
	total, up := 0, 0
	for _, n := range r.net.running() {
		if n != nil && n.Host() != nil {
			total += len(n.Host().Network().Conns())
			up++
		}
	}
	if up == 0 {
		return 0
	}
	return float64(total) / float64(up)
}

// connectionGraph returns the live connection graph between the members
// (by index) and each running node's connection count.
func (r *run) connectionGraph() ([]analysis.Edge, []int) {
	seen := map[[2]int]bool{}
	var edges []analysis.Edge
	var counts []int
	for i, n := range r.net.running() {
		if n == nil || n.Host() == nil {
			continue
		}
		conns := n.Host().Network().Conns()
		counts = append(counts, len(conns))
		for _, c := range conns {
			j, ok := r.net.byPeer[c.RemotePeer()]
			if !ok || j == i {
				continue
			}
			k := [2]int{min(i, j), max(i, j)}
			if !seen[k] {
				seen[k] = true
				edges = append(edges, analysis.Edge{U: int64(k[0]), V: int64(k[1])})
			}
		}
	}
	return edges, counts
}

// poloNow is every member's Polo averaged over the running observers
// (other than itself), rounded.
func (r *run) poloNow() map[int64]int {
	v := r.observePolo()
	out := make(map[int64]int, len(v.mean))
	if len(v.observers) == 0 {
		return out
	}
	for j, p := range v.mean {
		out[int64(j)] = int(math.Round(p))
	}
	return out
}

// poloView is what the observers think of every agent at the end.
type poloView struct {
	observers []int
	mean      []float64 // mean Polo over the observers (other than the agent itself), by member
	held      float64   // mean number of attestations an observer holds
}

// observePolo asks the observers (running honest members
// 0..Observers-1) for every agent's Polo.
func (r *run) observePolo() poloView {
	v := poloView{mean: make([]float64, r.cfg.Nodes)}
	nodes := r.net.running()
	for o := range r.cfg.Observers {
		if nodes[o] != nil {
			v.observers = append(v.observers, o)
		}
	}
	if len(v.observers) == 0 {
		return v
	}
	held := 0
	for j, m := range r.net.members {
		sum, k := 0, 0
		for _, o := range v.observers {
			d := nodes[o].PoloScore(m.id)
			held += d.Attestations // each attestation has one subject
			if o != j {
				sum += d.Polo
				k++
			}
		}
		if k > 0 {
			v.mean[j] = float64(sum) / float64(k)
		}
	}
	v.held = float64(held) / float64(len(v.observers))
	return v
}
