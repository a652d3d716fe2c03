package plot

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotter"
)

func TestAttachment(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	pts := []AttachmentPoint{{Degree: 0, Gained: 0.4}, {Degree: 2, Gained: math.NaN()}}
	for k := 1; k <= 300; k = int(float64(k)*1.25) + 1 {
		pts = append(pts, AttachmentPoint{Degree: k, Gained: 0.08 * math.Pow(float64(k), 0.93) * math.Exp(0.25*r.NormFloat64())})
	}
	path := outPath(t, "attachment.png")
	if err := Attachment(path, "Preferential attachment", pts, 0.93, [2]float64{0.85, 1.01}); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 50)
	if !hasColour(img, 0xD5, 0x5E, 0x00, 30, 100) {
		t.Error("no fit line (vermillion) drawn")
	}
}

func TestAttachmentEdges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := map[string]struct {
		pts  []AttachmentPoint
		beta float64
		ci   [2]float64
	}{
		"none.png":   {nil, 1, [2]float64{}},
		"zeros.png":  {[]AttachmentPoint{{0, 1}, {3, 0}}, 1, [2]float64{}},
		"one.png":    {[]AttachmentPoint{{4, 2}}, 1, [2]float64{0.5, 1.5}},
		"nobeta.png": {[]AttachmentPoint{{1, 0.1}, {10, 1}}, math.NaN(), [2]float64{}},
	}
	for name, c := range cases {
		path := outPath(t, "attachment_"+name)
		if err := Attachment(path, "edge", c.pts, c.beta, c.ci); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, path, 10)
	}
	for want, err := range map[string]error{
		"negative":  Attachment(filepath.Join(dir, "bad.png"), "bad", []AttachmentPoint{{-1, 1}}, 1, [2]float64{}),
		"inverted":  Attachment(filepath.Join(dir, "bad.png"), "bad", []AttachmentPoint{{1, 1}}, 1, [2]float64{2, 1}),
		"directory": Attachment(filepath.Join(dir, "no", "x.png"), "bad", nil, 1, [2]float64{}),
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want one containing %q", err, want)
		}
	}
}

func TestPowerFitAndLabel(t *testing.T) {
	xys := powerFit([]plotter.XY{{X: 1, Y: 2}, {X: 100, Y: 200}}, 1)
	if math.Abs(xys[0].Y-2) > 1e-9 || math.Abs(xys[len(xys)-1].Y-200) > 1e-9 {
		t.Errorf("fit through (1, 2) and (100, 200) with β = 1 gave %v … %v", xys[0], xys[len(xys)-1])
	}
	if got, want := betaLabel(0.934, [2]float64{0.85, 1.01}), "β = 0.93 (CI 0.85 – 1.01)"; !strings.Contains(got, want) {
		t.Errorf("label %q, want it to contain %q", got, want)
	}
	if got := betaLabel(1, [2]float64{}); strings.Contains(got, "CI") {
		t.Errorf("label %q shows a CI that was not given", got)
	}
}
