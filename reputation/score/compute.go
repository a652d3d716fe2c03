package score

import (
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Result summarises one Compute. Its maps belong to the caller.
type Result struct {
	// ComputedAt is the time the evidence was decayed to.
	ComputedAt time.Time
	// Iterations is the number of power iterations run.
	Iterations int
	// Converged reports whether the L1 change fell below Params.Epsilon
	// within Params.MaxIter iterations.
	Converged bool
	// Residual is the L1 change of t in the last iteration.
	Residual float64
	// Peers is N, the number of peers in the graph: those named in any
	// evidence, plus the anchors.
	Peers int
	// Pairs is the number of (issuer, subject) pairs with evidence.
	Pairs int
	// Ignored counts evidence Add dropped since New.
	Ignored uint64
	// Trust is the global trust t_i of every peer in the graph; it sums
	// to 1.
	Trust map[peer.ID]float64
	// Polo is the Polo score of every peer in the graph.
	Polo map[peer.ID]int
}

// snapshot is the cached outcome of a Compute, indexed like Engine.ids.
type snapshot struct {
	version    uint64
	computedAt time.Time
	iterations int
	converged  bool
	residual   float64
	peers      int // N
	pairs      int
	ignored    uint64
	trusted    int  // number of trusted peers among the anchors
	selfSet    bool // whether self was an anchor
	self       peer.ID
	ids        []peer.ID // e.ids[:n] at build time; its elements never change
	isAnchor   []bool
	trust      []float64
	polo       []int
	stats      []peerStat
}

// weighted is one entry of the sparse pre-trust vector.
type weighted struct {
	idx int32
	w   float64
}

// Compute decays all evidence to now, runs the power iteration and caches
// the outcome for Score. It starts from p every time, so equal evidence
// added in the same order gives bit-identical results. The cost is
// O(pairs + peers) per iteration. Score may run meanwhile and reads the
// previous result until this one is stored; Add and SetAnchors wait only
// while the evidence is read into the matrix, not during the iteration.
func (e *Engine) Compute(now time.Time) Result {
	e.computeMu.Lock()
	defer e.computeMu.Unlock()

	e.mu.RLock()
	snap, m := e.build(now)
	e.mu.RUnlock()

	snap.solve(m, e.params)

	e.mu.Lock()
	e.cache = snap
	e.mu.Unlock()
	return snap.result()
}

// matrix is the input of the power iteration: C in compressed sparse rows
// and the sparse pre-trust vector p.
type matrix struct {
	rowStart, col []int32
	val           []float64
	p             []weighted
}

// build copies what a snapshot needs from the engine and builds the matrix.
// The caller holds mu for reading; the iteration runs after it is released.
func (e *Engine) build(now time.Time) (*snapshot, matrix) {
	n := len(e.ids)
	snap := &snapshot{
		version:    e.version,
		computedAt: now,
		pairs:      len(e.pairs),
		ignored:    e.ignored,
		self:       e.self,
		ids:        e.ids[:n:n],
		selfSet:    e.self != "",
		trusted:    len(e.trusted),
		isAnchor:   make([]bool, n),
		stats:      append([]peerStat(nil), e.stats...),
	}
	active := make([]bool, n)
	for i, st := range e.stats {
		active[i] = st.issued > 0 || st.issuers > 0
	}
	p := e.pretrust(active, snap.isAnchor)
	for i, a := range active {
		if a || snap.isAnchor[i] {
			snap.peers++
		}
	}

	m := matrix{p: p}
	m.rowStart, m.col, m.val = e.normalised(now)
	return snap, m
}

// solve runs the power iteration on m and fills in trust and Polo.
func (s *snapshot) solve(m matrix, prm Params) {
	n := len(s.ids)
	t, it, res := iterate(n, m.rowStart, m.col, m.val, m.p, prm)
	s.trust, s.iterations, s.residual = t, it, res
	s.converged = res < prm.Epsilon
	s.polo = make([]int, n)
	for i, ti := range t {
		s.polo[i] = PoloOf(ti, s.peers, prm.Kappa)
	}
}

// pretrust returns the sparse pre-trust vector p and marks the anchors.
// With no anchors set it is uniform over the active peers.
func (e *Engine) pretrust(active, isAnchor []bool) []weighted {
	var p []weighted
	rest := 1.0
	if e.self != "" {
		i := e.index[e.self]
		isAnchor[i] = true
		if len(e.trusted) > 0 {
			rest = 1 - e.params.SelfWeight
			p = append(p, weighted{i, e.params.SelfWeight})
		} else {
			return append(p, weighted{i, 1})
		}
	}
	for _, id := range e.trusted {
		i := e.index[id]
		isAnchor[i] = true
		p = append(p, weighted{i, rest / float64(len(e.trusted))})
	}
	if len(p) > 0 {
		return p
	}
	count := 0
	for _, a := range active {
		if a {
			count++
		}
	}
	for i, a := range active {
		if a {
			p = append(p, weighted{int32(i), 1 / float64(count)})
		}
	}
	return p
}

// normalised builds the row-normalised local trust matrix C in compressed
// sparse rows: row i holds c_ij = l_ij / Σ_j l_ij for the subjects j with
// l_ij > 0. Rows of issuers with no positive local trust are empty and
// distribute to p in the iteration.
func (e *Engine) normalised(now time.Time) (rowStart []int32, col []int32, val []float64) {
	n := len(e.ids)
	factor := math.Exp2(e.halfLives(e.ref, now))
	local := make([]float64, len(e.pairs))
	rowStart = make([]int32, n+1)
	nnz := 0
	for k, pr := range e.pairs {
		l := localTrust(decayed(pr.s, factor, pr.ns), decayed(pr.f, factor, pr.nf), e.params.Saturation)
		if l > 0 {
			local[k] = l
			rowStart[pr.issuer+1]++
			nnz++
		}
	}
	for i := range n {
		rowStart[i+1] += rowStart[i]
	}
	col = make([]int32, nnz)
	val = make([]float64, nnz)
	next := append([]int32(nil), rowStart[:n]...)
	for k, pr := range e.pairs {
		if local[k] > 0 {
			at := next[pr.issuer]
			col[at], val[at] = pr.subject, local[k]
			next[pr.issuer]++
		}
	}
	for i := range n {
		lo, hi := rowStart[i], rowStart[i+1]
		sum := 0.0
		for _, v := range val[lo:hi] {
			sum += v
		}
		for k := lo; k < hi; k++ {
			val[k] /= sum
		}
	}
	return rowStart, col, val
}

// iterate runs t ← (1−α)·Cᵀt + α·p from t = p, sending the trust of issuers
// with empty rows to p, until the L1 change is below ε or MaxIter. It
// returns t, the number of iterations and the last L1 change.
func iterate(n int, rowStart, col []int32, val []float64, p []weighted, prm Params) ([]float64, int, float64) {
	if n == 0 {
		return nil, 0, 0
	}
	t := make([]float64, n)
	next := make([]float64, n)
	for _, pw := range p {
		t[pw.idx] += pw.w
	}
	beta := 1 - prm.Alpha
	residual := math.Inf(1)
	it := 0
	for it < prm.MaxIter && residual >= prm.Epsilon {
		it++
		clear(next)
		dangling := 0.0
		for i, ti := range t {
			if ti == 0 {
				continue
			}
			lo, hi := rowStart[i], rowStart[i+1]
			if lo == hi {
				dangling += ti
				continue
			}
			m := beta * ti
			for k := lo; k < hi; k++ {
				next[col[k]] += m * val[k]
			}
		}
		tele := prm.Alpha + beta*dangling
		for _, pw := range p {
			next[pw.idx] += tele * pw.w
		}
		residual = 0
		for i := range next {
			residual += math.Abs(next[i] - t[i])
		}
		t, next = next, t
	}
	return t, it, residual
}

// result converts the snapshot into a Result.
func (s *snapshot) result() Result {
	r := Result{
		ComputedAt: s.computedAt,
		Iterations: s.iterations,
		Converged:  s.converged,
		Residual:   s.residual,
		Peers:      s.peers,
		Pairs:      s.pairs,
		Ignored:    s.ignored,
		Trust:      make(map[peer.ID]float64, s.peers),
		Polo:       make(map[peer.ID]int, s.peers),
	}
	for i, id := range s.ids {
		st := s.stats[i]
		if st.issued > 0 || st.issuers > 0 || s.isAnchor[i] {
			r.Trust[id] = s.trust[i]
			r.Polo[id] = s.polo[i]
		}
	}
	return r
}
