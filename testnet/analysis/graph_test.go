package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/graph/simple"
	"gonum.org/v1/gonum/graph/topo"
)

func TestSmallGraphs(t *testing.T) {
	cases := []struct {
		name       string
		edges      []Edge
		degeneracy int
		layers     []int
		clustering float64
		assort     float64
	}{
		{"ring", ring(10), 2, []int{0, 0, 10}, 0, 0}, // regular: r undefined → 0
		{"complete", complete(6), 5, []int{0, 0, 0, 0, 0, 6}, 1, 0},
		{"star", star(8), 1, []int{0, 9}, 0, -1},
		{"triangle with tail", []Edge{{1, 2}, {2, 3}, {3, 1}, {3, 4}}, 2, []int{0, 1, 3}, (1 + 1 + 1.0/3) / 4, -5.0 / 7}, // the paw graph,
		{"empty", nil, 0, nil, 0, 0},
		{"only self-loops", []Edge{{1, 1}, {2, 2}}, 0, nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, layers := KCore(tc.edges)
			if d != tc.degeneracy || !slices.Equal(layers, tc.layers) {
				t.Errorf("KCore = %d, %v; want %d, %v", d, layers, tc.degeneracy, tc.layers)
			}
			if c := AverageClustering(tc.edges); math.Abs(c-tc.clustering) > 1e-12 {
				t.Errorf("clustering = %v, want %v", c, tc.clustering)
			}
			if r := DegreeAssortativity(tc.edges); math.Abs(r-tc.assort) > 1e-12 {
				t.Errorf("assortativity = %v, want %v", r, tc.assort)
			}
		})
	}
}

// randomGraph is an Erdős–Rényi G(n, p) graph.
func randomGraph(n int, p float64, seed uint64) []Edge {
	rng := rand.New(rand.NewPCG(seed, 0x6572))
	var out []Edge
	for i := range n {
		for j := i + 1; j < n; j++ {
			if rng.Float64() < p {
				out = append(out, Edge{U: int64(i), V: int64(j)})
			}
		}
	}
	return out
}

// TestKCoreMatchesGonum compares core numbers with gonum's k-cores.
func TestKCoreMatchesGonum(t *testing.T) {
	for seed, edges := range [][]Edge{baEdges(t, 2000, 3, 1), randomGraph(300, 0.05, 2), randomGraph(200, 0.2, 3)} {
		g := simple.NewUndirectedGraph()
		for _, e := range edges {
			g.SetEdge(simple.Edge{F: simple.Node(e.U), T: simple.Node(e.V)})
		}
		_, cores := topo.DegeneracyOrdering(g)
		want := make([]int, len(cores))
		for k, c := range cores {
			want[k] = len(c)
		}
		for len(want) > 0 && want[len(want)-1] == 0 {
			want = want[:len(want)-1]
		}
		d, layers := KCore(edges)
		if d != len(want)-1 || !slices.Equal(layers, want) {
			t.Errorf("graph %d: KCore = %d, %v; gonum %v", seed, d, layers, want)
		}
	}
}

// TestClusteringBruteForce checks triangles against a direct count.
func TestClusteringBruteForce(t *testing.T) {
	edges := randomGraph(120, 0.1, 4)
	adj := map[[2]int64]bool{}
	nodes := map[int64][]int64{}
	for _, e := range edges {
		adj[[2]int64{e.U, e.V}], adj[[2]int64{e.V, e.U}] = true, true
		nodes[e.U] = append(nodes[e.U], e.V)
		nodes[e.V] = append(nodes[e.V], e.U)
	}
	var sum float64
	for _, nb := range nodes {
		k := len(nb)
		if k < 2 {
			continue
		}
		links := 0
		for i := range nb {
			for j := i + 1; j < k; j++ {
				if adj[[2]int64{nb[i], nb[j]}] {
					links++
				}
			}
		}
		sum += 2 * float64(links) / float64(k*(k-1))
	}
	want := sum / float64(len(nodes))
	if got := AverageClustering(edges); math.Abs(got-want) > 1e-12 {
		t.Errorf("clustering = %v, brute force %v", got, want)
	}
}

func TestRewirePreservesDegrees(t *testing.T) {
	g := newCSR(baEdges(t, 1000, 3, 2))
	var pairs [][2]int32
	for i := 0; i < g.n(); i++ {
		for _, j := range g.adj(i) {
			if int(j) > i {
				pairs = append(pairs, [2]int32{int32(i), j})
			}
		}
	}
	out := rewire(pairs, 1, 0)
	deg := make([]int, g.n())
	seen := map[[2]int32]bool{}
	changed := 0
	for i, p := range out {
		a, b := min(p[0], p[1]), max(p[0], p[1])
		if a == b || seen[[2]int32{a, b}] {
			t.Fatalf("self-loop or duplicate %v", p)
		}
		seen[[2]int32{a, b}] = true
		deg[a]++
		deg[b]++
		if p != pairs[i] {
			changed++
		}
	}
	if !slices.Equal(deg, g.degreeSeq()) {
		t.Fatal("degrees changed")
	}
	if changed < len(pairs)/2 {
		t.Errorf("only %d of %d edges moved", changed, len(pairs))
	}
}

func TestRichClub(t *testing.T) {
	// Two hubs joined to each other and to every leaf: the hubs form a
	// perfect club (phi = 1), and no rewiring can remove their edge, so rho = 1.
	var edges []Edge
	edges = append(edges, Edge{0, 1})
	for i := int64(2); i < 30; i++ {
		edges = append(edges, Edge{0, i}, Edge{1, i})
	}
	rc := RichClubCoefficients(edges, 3, 1)
	if len(rc) == 0 {
		t.Fatal("no thresholds")
	}
	top := rc[len(rc)-1]
	if top.K != 2 || top.Phi != 1 || top.PhiRandom != 1 || top.Rho != 1 {
		t.Errorf("top = %+v, want k=2 phi=phi_random=rho=1", top)
	}
	if got := RichClubCoefficients(star(1), 3, 1); got != nil {
		t.Errorf("single edge: %+v, want none", got)
	}
	a := RichClubCoefficients(baEdges(t, 500, 2, 3), 2, 7)
	b := RichClubCoefficients(baEdges(t, 500, 2, 3), 2, 7)
	if !slices.Equal(a, b) {
		t.Error("not deterministic for a seed")
	}
	for i := 1; i < len(a); i++ {
		if a[i].K <= a[i-1].K {
			t.Errorf("thresholds not increasing: %+v", a)
		}
	}
}
