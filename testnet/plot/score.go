package plot

import (
	"fmt"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ScorePoint is one node for ScoreVsDegree.
type ScorePoint struct {
	// Degree is the node's partner degree.
	Degree int
	// Polo is its Polo score, 0..1000.
	Polo int
	// Sybil marks an identity of the Sybil attacker.
	Sybil bool
}

// maxPolo is the largest Polo score.
const maxPolo = 1000

// poloTicks marks every 100 points of score and labels every 200, up to
// the maximum only (the axis may extend above it to make room for the
// legend).
var poloTicks = func() plot.ConstantTicks {
	var ticks plot.ConstantTicks
	for v := 0; v <= maxPolo; v += 100 {
		t := plot.Tick{Value: float64(v)}
		if v%200 == 0 {
			t.Label = strconv.Itoa(v)
		}
		ticks = append(ticks, t)
	}
	return ticks
}()

// zeroDegreeX is where ScoreVsDegree draws degree 0 on its log axis.
const zeroDegreeX = 0.8

// ScoreVsDegree writes to path a scatter plot of Polo score (y, 0..1000)
// against partner degree (x, log scale), honest nodes as blue circles and
// Sybil identities as vermillion triangles drawn on top, with their counts
// in the legend. A degree of 0 has no place on a log axis, so those nodes
// are drawn at x = 0.8 under a tick labelled "0". A negative degree or a
// score outside 0..1000 is an error; with no points the figure says
// "no data".
func ScoreVsDegree(path, title string, pts []ScorePoint) error {
	if err := checkPath(path); err != nil {
		return err
	}
	f := newFigure(title, "partner degree (partners, log scale)", "Polo score (0–1000)")
	var honest, sybil []plotter.XY
	zeros := false
	for i, p := range pts {
		if p.Degree < 0 {
			return fmt.Errorf("plot: ScoreVsDegree point %d: negative degree %d", i, p.Degree)
		}
		if p.Polo < 0 || p.Polo > maxPolo {
			return fmt.Errorf("plot: ScoreVsDegree point %d: Polo score %d outside 0..%d", i, p.Polo, maxPolo)
		}
		xy := plotter.XY{X: float64(p.Degree), Y: float64(p.Polo)}
		if p.Degree == 0 {
			xy.X, zeros = zeroDegreeX, true
		}
		if p.Sybil {
			sybil = append(sybil, xy)
		} else {
			honest = append(honest, xy)
		}
	}
	if len(pts) == 0 {
		f.noData()
		return f.save(path)
	}
	if zeros {
		setLog(&f.p.X, plot.Tick{Value: zeroDegreeX, Label: "0"})
	} else {
		setLog(&f.p.X)
	}
	f.p.Y.Min, f.p.Y.Max = 0, maxPolo
	f.p.Y.Tick.Marker = poloTicks
	for i, group := range []struct {
		name string
		xys  []plotter.XY
	}{{"honest", honest}, {"Sybil", sybil}} {
		if len(group.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(plotter.XYs(group.xys))
		if err != nil {
			return fmt.Errorf("plot: ScoreVsDegree: %w", err)
		}
		sc.GlyphStyle = glyph(i, 140, vg.Points(3))
		f.p.Add(sc)
		f.markPoints(group.xys)
		thumb := &plotter.Scatter{GlyphStyle: glyph(i, 255, vg.Points(4))} // opaque in the legend
		f.addLegend(fmt.Sprintf("%s (n = %d)", group.name, len(group.xys)), thumb)
	}
	f.p.X.Max = max(f.p.X.Max, 10) // at least a decade, so the log axis reads as one
	return f.save(path)
}
