package analysis

import (
	"slices"
)

// csr is a simple undirected graph in compressed sparse row form over the
// dense node indices 0..n-1; ids maps an index back to its node ID.
type csr struct {
	ids   []int64 // index → node ID, ascending
	off   []int   // neighbours of i are nbr[off[i]:off[i+1]], ascending
	nbr   []int32
	edges []Edge // the normalised edge list
}

// newCSR builds the simple graph of edges (see normalise).
func newCSR(edges []Edge) *csr {
	es := normalise(edges)
	ids := make([]int64, 0, 2*len(es))
	for _, e := range es {
		ids = append(ids, e.U, e.V)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	index := func(id int64) int32 {
		i, _ := slices.BinarySearch(ids, id)
		return int32(i)
	}
	n := len(ids)
	off := make([]int, n+1)
	pairs := make([][2]int32, len(es))
	for i, e := range es {
		u, v := index(e.U), index(e.V)
		pairs[i] = [2]int32{u, v}
		off[u+1]++
		off[v+1]++
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	nbr := make([]int32, off[n])
	fill := slices.Clone(off[:n])
	for _, p := range pairs {
		nbr[fill[p[0]]] = p[1]
		fill[p[0]]++
		nbr[fill[p[1]]] = p[0]
		fill[p[1]]++
	}
	for i := 0; i < n; i++ {
		slices.Sort(nbr[off[i]:off[i+1]])
	}
	return &csr{ids: ids, off: off, nbr: nbr, edges: es}
}

func (g *csr) n() int            { return len(g.ids) }
func (g *csr) deg(i int) int     { return g.off[i+1] - g.off[i] }
func (g *csr) adj(i int) []int32 { return g.nbr[g.off[i]:g.off[i+1]] }

// degreeSeq returns the degree of every node, by index.
func (g *csr) degreeSeq() []int {
	d := make([]int, g.n())
	for i := range d {
		d[i] = g.deg(i)
	}
	return d
}

// KCore returns the degeneracy of the simple undirected graph of edges (the
// largest k with a non-empty k-core) and layers, where layers[k] is the
// number of nodes whose core number is exactly k (len(layers) is
// degeneracy+1). It uses the O(edges) bucket algorithm of Batagelj and
// Zaversnik. An empty graph gives (0, nil).
func KCore(edges []Edge) (degeneracy int, layers []int) {
	return newCSR(edges).kcore()
}

func (g *csr) kcore() (degeneracy int, layers []int) {
	core := g.coreNumbers()
	for _, c := range core {
		degeneracy = max(degeneracy, c)
	}
	if len(core) == 0 {
		return 0, nil
	}
	layers = make([]int, degeneracy+1)
	for _, c := range core {
		layers[c]++
	}
	return degeneracy, layers
}

// coreNumbers returns the core number of every node (Batagelj–Zaversnik).
func (g *csr) coreNumbers() []int {
	n := g.n()
	deg := g.degreeSeq()
	maxDeg := 0
	for _, d := range deg {
		maxDeg = max(maxDeg, d)
	}
	bin := make([]int, maxDeg+2) // bin[d] = first position of degree d in vert
	for _, d := range deg {
		bin[d+1]++
	}
	for d := 1; d <= maxDeg+1; d++ {
		bin[d] += bin[d-1]
	}
	pos := make([]int, n)
	vert := make([]int, n)
	next := slices.Clone(bin)
	for v, d := range deg {
		pos[v] = next[d]
		vert[pos[v]] = v
		next[d]++
	}
	for i := 0; i < n; i++ {
		v := vert[i]
		for _, w32 := range g.adj(v) {
			w := int(w32)
			if deg[w] > deg[v] {
				dw, pw := deg[w], pos[w]
				pu := bin[dw]
				u := vert[pu]
				if u != w {
					pos[u], pos[w] = pw, pu
					vert[pu], vert[pw] = w, u
				}
				bin[dw]++
				deg[w]--
			}
		}
	}
	return deg
}

// DegreeAssortativity returns Newman's degree assortativity coefficient r
// of the simple undirected graph of edges: the Pearson correlation of the
// degrees at the two ends of an edge, each edge counted in both
// directions. A star gives -1. When r is undefined (no edges, or every
// edge joins nodes of equal degree, as in a regular graph) it returns 0.
func DegreeAssortativity(edges []Edge) float64 {
	return newCSR(edges).assortativity()
}

func (g *csr) assortativity() float64 {
	if len(g.edges) == 0 {
		return 0
	}
	var s1, s2, sxy float64
	for i := 0; i < g.n(); i++ {
		for _, j := range g.adj(i) {
			if int(j) <= i {
				continue
			}
			a, b := float64(g.deg(i)), float64(g.deg(int(j)))
			sxy += a * b
			s1 += a + b
			s2 += a*a + b*b
		}
	}
	m := float64(len(g.edges))
	mean := s1 / (2 * m)
	den := s2/(2*m) - mean*mean
	num := sxy/m - mean*mean
	if den <= 1e-12*max(1, s2/(2*m)) {
		return 0
	}
	r := num / den
	return max(-1, min(1, r))
}

// AverageClustering returns the mean over all nodes of the local
// clustering coefficient 2T/(k(k-1)) of the simple undirected graph of
// edges (T = triangles through the node, k = its degree); nodes of degree
// below 2 count as 0, as in networkx. A complete graph gives 1, a ring of
// four or more nodes 0, an empty graph 0.
func AverageClustering(edges []Edge) float64 {
	return newCSR(edges).avgClustering()
}

func (g *csr) avgClustering() float64 {
	n := g.n()
	if n == 0 {
		return 0
	}
	tri := g.triangles()
	var sum float64
	for i := 0; i < n; i++ {
		k := float64(g.deg(i))
		if k >= 2 {
			sum += 2 * float64(tri[i]) / (k * (k - 1))
		}
	}
	return sum / float64(n)
}

// triangles returns the number of triangles through each node, by the
// degree-ordered forward algorithm (O(edges^1.5)).
func (g *csr) triangles() []int {
	n := g.n()
	rank := make([]int, n) // position in (degree, index) order
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if d := g.deg(a) - g.deg(b); d != 0 {
			return d
		}
		return a - b
	})
	for r, v := range order {
		rank[v] = r
	}
	tri := make([]int, n)
	mark := make([]int, n) // mark[w] == u+1 when w is a neighbour of u
	for u := 0; u < n; u++ {
		for _, w := range g.adj(u) {
			mark[w] = u + 1
		}
		for _, v32 := range g.adj(u) {
			v := int(v32)
			if rank[v] <= rank[u] {
				continue
			}
			for _, w32 := range g.adj(v) {
				w := int(w32)
				if rank[w] > rank[v] && mark[w] == u+1 {
					tri[u]++
					tri[v]++
					tri[w]++
				}
			}
		}
	}
	return tri
}
