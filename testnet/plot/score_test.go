package plot

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

func TestScoreVsDegree(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	var pts []ScorePoint
	for range 1500 {
		d := int(math.Pow(1-r.Float64(), -1/1.4)) - 1 // heavy-tailed, with zeros
		polo := min(1000, int(250*math.Log1p(float64(d))+r.NormFloat64()*60+150))
		pts = append(pts, ScorePoint{Degree: d, Polo: max(0, polo)})
	}
	for range 200 {
		pts = append(pts, ScorePoint{Degree: r.IntN(4), Polo: r.IntN(120), Sybil: true})
	}
	path := outPath(t, "score_vs_degree.png")
	if err := ScoreVsDegree(path, "Polo score against partner degree", pts); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 50)
	if !hasColour(img, 0xD5, 0x5E, 0x00, 40, 50) {
		t.Error("no Sybil (vermillion) points drawn")
	}
}

func TestScoreVsDegreeEdges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, pts := range map[string][]ScorePoint{
		"none.png":      nil,
		"zeros.png":     {{Degree: 0, Polo: 0}, {Degree: 0, Polo: 1000, Sybil: true}},
		"onedegree.png": {{Degree: 5, Polo: 500}},
	} {
		path := outPath(t, "score_"+name)
		if err := ScoreVsDegree(path, "edge", pts); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, path, 10)
	}
	for want, pts := range map[string][]ScorePoint{
		"negative degree": {{Degree: -1, Polo: 3}},
		"outside 0..1000": {{Degree: 1, Polo: 1001}},
	} {
		if err := ScoreVsDegree(filepath.Join(dir, "bad.png"), "bad", pts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want one containing %q", err, want)
		}
	}
}
