package plot

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestKCoreLayers(t *testing.T) {
	t.Parallel()
	wide := []int{0, 5200, 2100, 900, 410, 160, 75, 30, 0, 12, 4, 1} // over three decades: log y
	path := outPath(t, "kcore_layers.png")
	if err := KCoreLayers(path, "Nodes per k-core shell", wide); err != nil {
		t.Fatal(err)
	}
	if img := checkPNG(t, path, 20); !hasColour(img, 0x00, 0x72, 0xB2, 10, 2000) {
		t.Error("no bars drawn")
	}
	narrow := []int{3, 40, 55, 61, 30, 12} // under two decades: linear y
	path = outPath(t, "kcore_layers_linear.png")
	if err := KCoreLayers(path, "Nodes per k-core shell (small network)", narrow); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 20)
}

func TestKCoreLayersEdges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, layers := range map[string][]int{
		"nil.png":   nil,
		"zeros.png": {0, 0, 0},
		"one.png":   {0, 0, 7},
		"many.png":  make([]int, 120),
	} {
		if name == "many.png" {
			for k := range layers {
				layers[k] = 1 + k*k
			}
		}
		path := outPath(t, "kcore_"+name)
		if err := KCoreLayers(path, "edge", layers); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkPNG(t, path, 10)
	}
	if err := KCoreLayers(filepath.Join(dir, "bad.png"), "bad", []int{1, -1}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("err = %v, want a negative count error", err)
	}
}
