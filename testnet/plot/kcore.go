package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
)

// KCoreLayers writes to path a bar chart of the number of nodes (y) in each
// k-core shell (x: core number k), where layers[k] is the number of nodes
// whose core number is k. The y axis is logarithmic when the non-zero
// counts span more than two decades (empty shells then have no bar), linear
// otherwise; counts are printed over the bars when they fit. A negative
// count is an error; with no node in any shell the figure says "no data".
func KCoreLayers(path, title string, layers []int) error {
	if err := checkPath(path); err != nil {
		return err
	}
	f := newFigure(title, "core number k", "nodes (count)")
	f.p.X.Tick.Marker = intTicks{}
	total, maxK, lo, hi := 0, 0, math.MaxInt, 0
	for k, n := range layers {
		if n < 0 {
			return fmt.Errorf("plot: KCoreLayers: negative count %d at k = %d", n, k)
		}
		if n > 0 {
			total, maxK, lo, hi = total+n, k, min(lo, n), max(hi, n)
		}
	}
	if total == 0 {
		f.noData()
		return f.save(path)
	}
	b := &bars{counts: layers, fill: colour(0, 255)}
	f.p.Add(b)
	f.p.X.Min, f.p.X.Max = -0.6, float64(len(layers))-0.4
	if float64(hi) > 100*float64(lo) {
		setLog(&f.p.Y)
		b.log = true
		f.p.Y.Min, f.p.Y.Max = float64(lo)/2, float64(hi)*2 // room under the smallest bar and for the labels
	} else {
		f.p.Y.Min, f.p.Y.Max = 0, float64(hi)*1.08
	}
	for k, n := range layers { // each bar and its label, for the legend to avoid
		x, bottom, top := float64(k), 0.0, float64(n)+0.06*float64(hi)
		if b.log {
			bottom, top = f.p.Y.Min, float64(n)*1.5
		}
		if n > 0 {
			f.markLine([]plotter.XY{{X: x, Y: bottom}, {X: x, Y: top}})
		}
	}
	f.addLegend(fmt.Sprintf("%d nodes, max core k = %d", total, maxK), b)
	return f.save(path)
}
