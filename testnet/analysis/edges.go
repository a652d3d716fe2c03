package analysis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// MaxEdgeListBytes is the largest edge list ReadEdges accepts: 64 MiB.
const MaxEdgeListBytes = 64 << 20

// maxLineBytes bounds one line of an edge list; two int64s and their
// separators fit in well under a kilobyte.
const maxLineBytes = 4096

// ErrTooLarge is returned by ReadEdges for input over MaxEdgeListBytes.
var ErrTooLarge = errors.New("analysis: edge list over 64 MiB")

// Edge is one undirected edge between the nodes U and V. Node IDs are
// arbitrary int64s; they need not be dense or positive.
type Edge struct{ U, V int64 }

// ReadEdges reads an edge list: one "u v" pair per line (two base-10
// int64s separated by spaces or tabs); lines that are blank or whose first
// non-blank character is '#' are ignored. Edges are undirected: self-loops
// are dropped and duplicates (in either direction) merged. The result is
// sorted by (U, V) with U < V in every edge. A malformed line is an error
// naming its line number; input over MaxEdgeListBytes is refused with
// ErrTooLarge.
func ReadEdges(r io.Reader) ([]Edge, error) {
	lr := &io.LimitedReader{R: r, N: MaxEdgeListBytes + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, maxLineBytes), maxLineBytes)
	var edges []Edge
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		e, err := parseEdge(text)
		if err != nil {
			if lr.N <= 0 {
				return nil, ErrTooLarge
			}
			return nil, fmt.Errorf("analysis: edge list line %d: %w", line, err)
		}
		if e.U != e.V {
			edges = append(edges, e)
		}
	}
	if lr.N <= 0 {
		return nil, ErrTooLarge
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("analysis: edge list line %d: longer than %d bytes", line+1, maxLineBytes)
		}
		return nil, fmt.Errorf("analysis: read edge list: %w", err)
	}
	return normalise(edges), nil
}

// parseEdge parses "u v" (exactly two blank-separated base-10 int64s).
func parseEdge(text []byte) (Edge, error) {
	var ids [2]int64
	rest := text
	for i := range ids {
		rest = bytes.TrimLeft(rest, " \t\r\v\f")
		if len(rest) == 0 {
			return Edge{}, fmt.Errorf("want two integers \"u v\", got %d", i)
		}
		end := bytes.IndexAny(rest, " \t\r\v\f")
		if end < 0 {
			end = len(rest)
		}
		id, err := strconv.ParseInt(string(rest[:end]), 10, 64)
		if err != nil {
			return Edge{}, fmt.Errorf("node %q: not a base-10 int64", rest[:end])
		}
		ids[i], rest = id, rest[end:]
	}
	if len(bytes.TrimLeft(rest, " \t\r\v\f")) != 0 {
		return Edge{}, fmt.Errorf("want two integers \"u v\", got more fields")
	}
	return Edge{U: ids[0], V: ids[1]}, nil
}

// WriteEdges writes edges as ReadEdges reads them: a '#' header comment,
// then one "u v\n" line per edge, in the order given (self-loops and
// duplicates are written as they are; ReadEdges drops or merges them).
func WriteEdges(w io.Writer, edges []Edge) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# undirected edge list: %d edges, one \"u v\" pair per line\n", len(edges))
	var buf []byte
	for _, e := range edges {
		buf = strconv.AppendInt(buf[:0], e.U, 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, e.V, 10)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("analysis: write edge list: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("analysis: write edge list: %w", err)
	}
	return nil
}

// normalise returns the simple undirected graph of edges: no self-loops,
// U < V in each edge, sorted, no duplicates. It does not modify edges.
func normalise(edges []Edge) []Edge {
	out := make([]Edge, 0, len(edges))
	for _, e := range edges {
		switch {
		case e.U < e.V:
			out = append(out, e)
		case e.U > e.V:
			out = append(out, Edge{U: e.V, V: e.U})
		}
	}
	slices.SortFunc(out, cmpEdge)
	return slices.Compact(out)
}

func cmpEdge(a, b Edge) int {
	if a.U != b.U {
		if a.U < b.U {
			return -1
		}
		return 1
	}
	switch {
	case a.V < b.V:
		return -1
	case a.V > b.V:
		return 1
	}
	return 0
}

// Degrees returns the degree of every node of the simple undirected graph
// of edges (self-loops dropped, duplicates merged). Nodes that appear only
// in self-loops are not nodes of that graph and are absent.
func Degrees(edges []Edge) map[int64]int {
	deg := make(map[int64]int)
	for _, e := range normalise(edges) {
		deg[e.U]++
		deg[e.V]++
	}
	return deg
}
