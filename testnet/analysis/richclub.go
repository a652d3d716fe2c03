package analysis

import (
	"runtime"
	"slices"
)

// richClubQuantiles are the degree quantiles at which RichClubCoefficients
// evaluates phi(k); they lean towards the top, where a rich club would be.
var richClubQuantiles = []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999}

// swapsPerEdge is how many double-edge swaps per edge each rewired graph
// gets.
const swapsPerEdge = 10

// RichClub is the rich-club coefficient at one degree threshold K: Phi is
// the density of the edges among the nodes of degree > K,
// 2E>K / (N>K (N>K - 1)); PhiRandom is the same in degree-preserving
// rewirings of the graph (mean over them); Rho = Phi / PhiRandom, above 1
// when the hubs link to each other more than their degrees alone explain
// (0 when PhiRandom is 0).
type RichClub struct {
	K         int     `json:"k"`
	Phi       float64 `json:"phi"`
	PhiRandom float64 `json:"phi_random"`
	Rho       float64 `json:"rho"`
}

// RichClubCoefficients returns the rich-club coefficients of the simple
// undirected graph of edges at the distinct degrees found at the 50th,
// 60th, 70th, 80th, 90th, 95th, 98th, 99th, 99.5th and 99.9th percentiles,
// keeping the thresholds with at least two nodes above them, in increasing
// K. The random baseline averages `rewires` graphs (DefaultRewires when
// rewires ≤ 0), each made from the original by 10×edges attempted
// double-edge swaps that keep every degree and refuse self-loops and
// duplicate edges. seed makes the result deterministic.
func RichClubCoefficients(edges []Edge, rewires int, seed uint64) []RichClub {
	return newCSR(edges).richClub(rewires, seed)
}

func (g *csr) richClub(rewires int, seed uint64) []RichClub {
	deg := g.degreeSeq()
	if len(g.edges) == 0 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(deg))
	var ks []int
	for _, q := range richClubQuantiles {
		k := sorted[int(q*float64(len(sorted)-1))]
		above := len(sorted) - upperBound(sorted, k)
		if above >= 2 && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	if len(ks) == 0 {
		return nil
	}
	pairs := make([][2]int32, 0, len(g.edges))
	for i := 0; i < g.n(); i++ {
		for _, j := range g.adj(i) {
			if int(j) > i {
				pairs = append(pairs, [2]int32{int32(i), j})
			}
		}
	}
	phi := richClubPhi(pairs, deg, sorted, ks)
	if rewires <= 0 {
		rewires = DefaultRewires
	}
	random := make([][]float64, rewires)
	runParallel(rewires, runtime.GOMAXPROCS(0), nil, func(r int) {
		random[r] = richClubPhi(rewire(pairs, seed, uint64(r)), deg, sorted, ks)
	})
	out := make([]RichClub, len(ks))
	for i, k := range ks {
		var mean float64
		for _, ph := range random {
			mean += ph[i]
		}
		mean /= float64(rewires)
		rc := RichClub{K: k, Phi: phi[i], PhiRandom: mean}
		if mean > 0 {
			rc.Rho = phi[i] / mean
		}
		out[i] = rc
	}
	return out
}

// upperBound returns the index of the first element of sorted that is > k.
func upperBound(sorted []int, k int) int {
	i, _ := slices.BinarySearch(sorted, k+1)
	return i
}

// richClubPhi returns phi(k) for each k of ks, for the graph with edges
// pairs and degrees deg (sorted is deg in ascending order).
func richClubPhi(pairs [][2]int32, deg, sorted []int, ks []int) []float64 {
	out := make([]float64, len(ks))
	for i, k := range ks {
		var e int
		for _, p := range pairs {
			if deg[p[0]] > k && deg[p[1]] > k {
				e++
			}
		}
		nk := float64(len(sorted) - upperBound(sorted, k))
		out[i] = 2 * float64(e) / (nk * (nk - 1))
	}
	return out
}

// rewire returns a degree-preserving randomisation of the simple graph
// pairs: swapsPerEdge×len(pairs) attempted double-edge swaps
// (a-b, c-d → a-d, c-b or a-c, b-d), each refused if it would make a
// self-loop or a duplicate edge.
func rewire(pairs [][2]int32, seed, stream uint64) [][2]int32 {
	out := slices.Clone(pairs)
	if len(out) < 2 {
		return out
	}
	key := func(a, b int32) uint64 {
		if a > b {
			a, b = b, a
		}
		return uint64(a)<<32 | uint64(uint32(b))
	}
	set := make(map[uint64]struct{}, len(out))
	for _, p := range out {
		set[key(p[0], p[1])] = struct{}{}
	}
	rng := newRand(seed, domainRichClub, stream)
	for range swapsPerEdge * len(out) {
		i, j := rng.IntN(len(out)), rng.IntN(len(out))
		if i == j {
			continue
		}
		a, b := out[i][0], out[i][1]
		c, d := out[j][0], out[j][1]
		if rng.IntN(2) == 0 {
			c, d = d, c
		}
		// New edges a-d and c-b.
		if a == d || c == b {
			continue
		}
		if _, dup := set[key(a, d)]; dup {
			continue
		}
		if _, dup := set[key(c, b)]; dup {
			continue
		}
		delete(set, key(a, b))
		delete(set, key(c, d))
		set[key(a, d)] = struct{}{}
		set[key(c, b)] = struct{}{}
		out[i] = [2]int32{a, d}
		out[j] = [2]int32{c, b}
	}
	return out
}
