package plot

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestAlphaOverTime(t *testing.T) {
	t.Parallel()
	series := map[string][]AlphaPoint{"reputation": nil, "random": nil}
	for m := 5.0; m <= 60; m += 5 {
		w := 0.6 / math.Sqrt(m) // intervals narrow as the sample grows
		a := 2.4 + 0.8*math.Exp(-m/15)
		series["reputation"] = append(series["reputation"], AlphaPoint{Minutes: m, Alpha: a, Lo: a - w, Hi: a + w})
		series["random"] = append(series["random"], AlphaPoint{Minutes: m, Alpha: 3.6 + 0.4*math.Sin(m/9)})
	}
	series["random"] = append(series["random"], AlphaPoint{Minutes: 62, Alpha: math.NaN()}, AlphaPoint{Minutes: math.Inf(1), Alpha: 3})
	path := outPath(t, "alpha_over_time.png")
	if err := AlphaOverTime(path, "Power-law exponent α during the run", series); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 50)
	if !hasColour(img, 0x00, 0x72, 0xB2, 30, 200) || !hasColour(img, 0xD5, 0x5E, 0x00, 30, 200) {
		t.Error("the two series' colours are not both drawn")
	}
}

func TestAlphaOverTimeEdges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, s := range map[string]map[string][]AlphaPoint{
		"nil.png":      nil,
		"allnan.png":   {"a": {{Minutes: math.NaN(), Alpha: 2}, {Minutes: 1, Alpha: math.Inf(-1)}}},
		"onepoint.png": {"a": {{Minutes: 3, Alpha: 2.5, Lo: 2.2, Hi: 2.9}}},
		"unsorted.png": {"a": {{Minutes: 9, Alpha: 2}, {Minutes: 1, Alpha: 3}, {Minutes: 4, Alpha: 2.5, Lo: 2.6, Hi: 2.7}}},
	} {
		path := outPath(t, "alpha_"+name)
		if err := AlphaOverTime(path, "edge", s); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, path, 10)
	}
	for want, s := range map[string]map[string][]AlphaPoint{
		"empty name":  {"": {{Minutes: 1, Alpha: 2}}},
		"Lo = 3 > Hi": {"a": {{Minutes: 1, Alpha: 2, Lo: 3, Hi: 1}}},
	} {
		if err := AlphaOverTime(filepath.Join(dir, "bad.png"), "bad", s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want one containing %q", err, want)
		}
	}
	if err := AlphaOverTime(filepath.Join(dir, "no", "x.png"), "t", nil); err == nil {
		t.Error("a missing directory was accepted")
	}
}
