package plot

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

// powerLawDegrees draws n degrees from a discretised power law with exponent
// alpha above xmin, plus zeros isolated nodes.
func powerLawDegrees(r *rand.Rand, n, zeros int, alpha float64, xmin int) []int {
	d := make([]int, 0, n+zeros)
	for range n {
		d = append(d, int(float64(xmin)*math.Pow(1-r.Float64(), -1/(alpha-1))))
	}
	for range zeros {
		d = append(d, 0)
	}
	return d
}

// poissonDegrees draws n degrees around mean from a binomial(4·mean, ¼).
func poissonDegrees(r *rand.Rand, n int, mean int) []int {
	d := make([]int, n)
	for i := range d {
		for range 4 * mean {
			if r.IntN(4) == 0 {
				d[i]++
			}
		}
	}
	return d
}

func TestCCDFCountsZerosInTheTotal(t *testing.T) {
	got := ccdf([]int{5, 0, 2, 1, 0, 2})
	want := []plotter.XY{{X: 1, Y: 4.0 / 6}, {X: 2, Y: 3.0 / 6}, {X: 5, Y: 1.0 / 6}}
	if len(got) != len(want) {
		t.Fatalf("ccdf = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].X != want[i].X || math.Abs(got[i].Y-want[i].Y) > 1e-12 {
			t.Errorf("ccdf[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if got := ccdf([]int{0, 0}); len(got) != 0 {
		t.Errorf("ccdf of zeros = %v, want nothing", got)
	}
}

func TestFitLineStartsAtTheEmpiricalCCDF(t *testing.T) {
	pts := ccdf([]int{1, 2, 3, 3, 4, 8, 20})
	line := fitLine(pts, 2.5, 3)
	if line[0].X != 3 || math.Abs(line[0].Y-5.0/7) > 1e-12 {
		t.Errorf("fit starts at %v, want (3, 5/7)", line[0])
	}
	last := line[len(line)-1]
	if last.X != 20 {
		t.Errorf("fit ends at k = %g, want the largest degree 20", last.X)
	}
	if slope := math.Log(last.Y/line[0].Y) / math.Log(last.X/line[0].X); math.Abs(slope-(1-2.5)) > 1e-9 {
		t.Errorf("fit slope %g on log–log axes, want 1 − α = −1.5", slope)
	}
	if fitLine(pts, 0, 3) != nil || fitLine(pts, math.NaN(), 3) != nil {
		t.Error("α = 0 or NaN drew a fit line")
	}
}

func TestDegreeCCDF(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	path := outPath(t, "degree_ccdf.png")
	err := DegreeCCDF(path, "Partner degree CCDF, 2,000 nodes",
		Series{Name: "reputation", Degrees: powerLawDegrees(r, 2000, 40, 2.41, 3), Alpha: 2.41, Xmin: 3},
		Series{Name: "random", Degrees: poissonDegrees(r, 2000, 8)},
	)
	if err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 50)
	if !hasColour(img, 0x00, 0x72, 0xB2, 30, 200) || !hasColour(img, 0xD5, 0x5E, 0x00, 30, 200) {
		t.Error("the two series' colours (blue, vermillion) are not both drawn")
	}
	noTempFiles(t, path)
}

// On log axes degree 0 has no place: zeros must neither panic nor be drawn,
// and a series of zeros alone still yields a figure.
func TestDegreeCCDFZeroDegrees(t *testing.T) {
	t.Parallel()
	mixed := outPath(t, "ccdf_mixed.png")
	if err := DegreeCCDF(mixed, "zeros beside data",
		Series{Name: "isolated", Degrees: []int{0, 0, 0}},
		Series{Name: "some", Degrees: []int{0, 1, 1, 2, 3, 0}, Alpha: 2, Xmin: 1},
	); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, mixed, 20)
	for name, series := range map[string][]Series{
		"zeros.png": {{Name: "isolated", Degrees: []int{0, 0, 0}}},
		"none.png":  nil,
		"one.png":   {{Name: "single", Degrees: []int{4}}},
	} {
		path := outPath(t, "ccdf_"+name)
		if err := DegreeCCDF(path, "degenerate", series...); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, path, 10)
	}
}

func TestDegreeCCDFRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok := filepath.Join(dir, "x.png")
	cases := []struct {
		name, path string
		s          Series
		want       string
	}{
		{"missing directory", filepath.Join(dir, "nope", "x.png"), Series{Name: "a", Degrees: []int{1}}, "directory"},
		{"path is a directory", dir, Series{Name: "a", Degrees: []int{1}}, "is a directory"},
		{"empty path", "", Series{Name: "a", Degrees: []int{1}}, "empty output path"},
		{"no name", ok, Series{Degrees: []int{1}}, "no name"},
		{"negative degree", ok, Series{Name: "a", Degrees: []int{1, -2}}, "negative degree"},
		{"alpha ≤ 1", ok, Series{Name: "a", Degrees: []int{1, 2}, Alpha: 0.9, Xmin: 1}, "want > 1"},
		{"xmin 0", ok, Series{Name: "a", Degrees: []int{1, 2}, Alpha: 2, Xmin: 0}, "xmin"},
		{"xmin beyond data", ok, Series{Name: "a", Degrees: []int{1, 2}, Alpha: 2, Xmin: 3}, "xmin"},
	}
	for _, tc := range cases {
		err := DegreeCCDF(tc.path, "t", tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("rejected calls left %d file(s) behind in %s", len(entries), dir)
	}
}

// Writing over an existing figure replaces it whole and leaves no temporary
// file.
func TestDegreeCCDFOverwrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "f.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := DegreeCCDF(path, "t", Series{Name: "a", Degrees: []int{1, 2, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 10)
	noTempFiles(t, path)
}
