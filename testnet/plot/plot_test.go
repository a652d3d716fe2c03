package plot

import (
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plotsDir, when set, receives a copy of every figure the tests draw, for
// looking at: go test ./testnet/plot/ -plots /tmp/plots
var plotsDir = flag.String("plots", "", "also write the test figures to this directory")

// outPath returns where a test writes figure name: t.TempDir(), or -plots
// (so names must be unique across tests).
func outPath(t *testing.T, name string) string {
	t.Helper()
	if *plotsDir != "" {
		if err := os.MkdirAll(*plotsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(*plotsDir, name)
	}
	return filepath.Join(t.TempDir(), name)
}

// checkPNG decodes the PNG at path and checks its size and that it is not
// blank: enough non-white pixels and distinct colours. It returns the image.
func checkPNG(t *testing.T, path string, minColours int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != Width || b.Dy() != Height {
		t.Errorf("%s: %d×%d px, want %d×%d", path, b.Dx(), b.Dy(), Width, Height)
	}
	colours, ink := map[[3]uint8]bool{}, 0
	eachPixel(img, func(r, g, b uint8) {
		colours[[3]uint8{r, g, b}] = true
		if r < 0xf0 || g < 0xf0 || b < 0xf0 {
			ink++
		}
	})
	if frac := float64(ink) / float64(b.Dx()*b.Dy()); frac < 0.005 {
		t.Errorf("%s: only %.2f%% of pixels are not white", path, 100*frac)
	}
	if len(colours) < minColours {
		t.Errorf("%s: %d distinct colours, want at least %d", path, len(colours), minColours)
	}
	return img
}

// eachPixel calls fn with the 8-bit colour of every pixel of img (opaque,
// as the figures are).
func eachPixel(img image.Image, fn func(r, g, b uint8)) {
	if rgba, ok := img.(*image.RGBA); ok { // what the figures decode to: fast
		for i := 0; i+3 < len(rgba.Pix); i += 4 {
			fn(rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2])
		}
		return
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			fn(uint8(r>>8), uint8(g>>8), uint8(bl>>8))
		}
	}
}

// hasColour reports whether img has at least n pixels within tol (per 8-bit
// channel) of the colour (r, g, b), such as a series' marker colour.
func hasColour(img image.Image, r, g, b uint8, tol, n int) bool {
	count := 0
	eachPixel(img, func(pr, pg, pb uint8) {
		if near(pr, r, tol) && near(pg, g, tol) && near(pb, b, tol) {
			count++
		}
	})
	return count >= n
}

func near(v, want uint8, tol int) bool {
	d := int(v) - int(want)
	return d >= -tol && d <= tol
}

// noTempFiles fails if writeAtomic left a temporary file of path behind.
func noTempFiles(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(path)+".") && strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s of %s left behind", e.Name(), path)
		}
	}
}
