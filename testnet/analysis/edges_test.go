package analysis

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestReadEdges(t *testing.T) {
	cases := []struct {
		name, in string
		want     []Edge
		errLine  string // substring of the error; "" wants success
	}{
		{"empty", "", nil, ""},
		{"comments and blanks", "# header\n\n   \n\t# indented comment\n", nil, ""},
		{"one edge", "1 2\n", []Edge{{1, 2}}, ""},
		{"no final newline", "1 2", []Edge{{1, 2}}, ""},
		{"tabs and CRLF", "3\t4\r\n 5   6 \r\n", []Edge{{3, 4}, {5, 6}}, ""},
		{"reversed is normalised", "9 2\n", []Edge{{2, 9}}, ""},
		{"duplicates merged", "1 2\n2 1\n1 2\n", []Edge{{1, 2}}, ""},
		{"self-loop dropped", "7 7\n1 2\n", []Edge{{1, 2}}, ""},
		{"sorted", "5 6\n1 9\n1 3\n", []Edge{{1, 3}, {1, 9}, {5, 6}}, ""},
		{"negative and large ids", "-5 9223372036854775807\n", []Edge{{-5, 9223372036854775807}}, ""},
		{"one field", "1 2\n3\n", nil, "line 2"},
		{"three fields", "1 2 3\n", nil, "line 1"},
		{"trailing comment is not allowed", "1 2 # x\n", nil, "line 1"},
		{"not a number", "# c\n\na b\n", nil, "line 3"},
		{"float", "1.5 2\n", nil, "line 1"},
		{"overflow", "1 9223372036854775808\n", nil, "line 1"},
		{"hex", "0x1 2\n", nil, "line 1"},
		{"long line", "1 2\n" + strings.Repeat(" ", maxLineBytes+10) + "3 4\n", nil, "line 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadEdges(strings.NewReader(tc.in))
			if tc.errLine != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errLine) {
					t.Fatalf("err = %v, want one naming %q", err, tc.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// commentFill yields "1 2\n" and then comment lines forever.
type commentFill struct{ n int }

func (c *commentFill) Read(p []byte) (int, error) {
	const head = "1 2\n"
	for i := range p {
		switch {
		case c.n < len(head):
			p[i] = head[c.n]
		case c.n%1000 == 999:
			p[i] = '\n'
		default:
			p[i] = '#'
		}
		c.n++
	}
	return len(p), nil
}

func TestReadEdgesTooLarge(t *testing.T) {
	if _, err := ReadEdges(&commentFill{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("endless input: err = %v, want ErrTooLarge", err)
	}
	got, err := ReadEdges(io.LimitReader(&commentFill{}, MaxEdgeListBytes))
	if err != nil || !slices.Equal(got, []Edge{{1, 2}}) {
		t.Fatalf("input of exactly the limit: %v, %v", got, err)
	}
	// A huge final line cut by the limit is ErrTooLarge, not a parse error.
	huge := io.MultiReader(strings.NewReader("1 2\n"), io.LimitReader(&commentFill{n: 4}, MaxEdgeListBytes-8),
		strings.NewReader("\n12345 678910\n"))
	if _, err := ReadEdges(huge); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("edge cut by the limit: err = %v, want ErrTooLarge", err)
	}
}

func TestWriteEdgesRoundTrip(t *testing.T) {
	edges := []Edge{{1, 2}, {-3, 4}, {5, 5}, {2, 1}, {10, 7}}
	var buf bytes.Buffer
	if err := WriteEdges(&buf, edges); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "#") {
		t.Errorf("no header comment: %q", buf.String())
	}
	got, err := ReadEdges(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if want := []Edge{{-3, 4}, {1, 2}, {7, 10}}; !slices.Equal(got, want) {
		t.Fatalf("round trip: got %v, want %v", got, want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteEdgesError(t *testing.T) {
	if err := WriteEdges(failWriter{}, []Edge{{1, 2}}); err == nil {
		t.Fatal("want the writer's error")
	}
}

func TestDegrees(t *testing.T) {
	got := Degrees([]Edge{{1, 2}, {2, 1}, {2, 3}, {4, 4}})
	want := map[int64]int{1: 1, 2: 2, 3: 1}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func FuzzReadEdges(f *testing.F) {
	for _, s := range []string{"", "1 2\n", "# c\n1 2\n2 1\n3 3\n", "1\t-2\r\n", "a b\n", "1 2 3", "9223372036854775807 -9223372036854775808\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		edges, err := ReadEdges(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, e := range edges {
			if e.U >= e.V || i > 0 && cmpEdge(edges[i-1], e) >= 0 {
				t.Fatalf("not normalised: %v", edges)
			}
		}
		var buf bytes.Buffer
		if err := WriteEdges(&buf, edges); err != nil {
			t.Fatal(err)
		}
		again, err := ReadEdges(&buf)
		if err != nil || !slices.Equal(again, edges) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, edges)
		}
		// Whatever parses must analyse without panicking.
		KCore(edges)
		DegreeAssortativity(edges)
		AverageClustering(edges)
	})
}
