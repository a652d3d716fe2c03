package plot

import (
	"cmp"
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// AlphaPoint is one estimate of the power-law exponent α at a moment of a
// run.
type AlphaPoint struct {
	// Minutes is the time elapsed since the start of the run.
	Minutes float64
	// Alpha is the estimate; Lo and Hi bound its confidence interval. Lo and
	// Hi both zero (or either NaN/±Inf) means no interval.
	Alpha, Lo, Hi float64
}

// AlphaOverTime writes to path a plot of α (y) against elapsed minutes (x),
// one line with markers per named series (in name order, for stable
// colours), and a vertical bar from Lo to Hi wherever an interval is set.
// Points with a NaN or ±Inf time or α are dropped. An empty series name, or
// an interval with Lo > Hi, is an error. With no point left the figure says
// "no data".
func AlphaOverTime(path, title string, series map[string][]AlphaPoint) error {
	if err := checkPath(path); err != nil {
		return err
	}
	f := newFigure(title, "elapsed time (minutes)", "power-law exponent α")
	drawn, anyBars := 0, false
	for i, name := range slices.Sorted(maps.Keys(series)) {
		if name == "" {
			return fmt.Errorf("plot: AlphaOverTime: series with an empty name")
		}
		pts, bars, err := alphaPoints(series[name])
		if err != nil {
			return fmt.Errorf("plot: AlphaOverTime series %q: %w", name, err)
		}
		if len(pts) == 0 {
			continue
		}
		drawn++
		line, sc, err := plotter.NewLinePoints(plotter.XYs(pts))
		if err != nil {
			return fmt.Errorf("plot: AlphaOverTime series %q: %w", name, err)
		}
		line.LineStyle = draw.LineStyle{Color: colour(i, 255), Width: vg.Points(2)}
		sc.GlyphStyle = glyph(i, 255, vg.Points(3.5))
		if len(bars.XYs) > 0 {
			anyBars = true
			bars.LineStyle = draw.LineStyle{Color: colour(i, 170), Width: vg.Points(1.5)}
			bars.CapWidth = vg.Points(8)
			f.p.Add(bars)
			for j, xy := range bars.XYs {
				e := bars.YErrors[j]
				f.markLine([]plotter.XY{{X: xy.X, Y: xy.Y - e.Low}, {X: xy.X, Y: xy.Y + e.High}})
			}
		}
		f.p.Add(line, sc)
		f.markLine(pts)
		f.addLegend(name, line, sc)
	}
	if drawn == 0 {
		f.noData()
	} else if anyBars {
		f.addLegend("confidence interval", errBarThumb{draw.LineStyle{Color: color.Gray{Y: 90}, Width: vg.Points(1.5)}})
	}
	return f.save(path)
}

// alphaPoints returns the finite points of one series sorted by time, and
// their intervals as error bars (centred on the interval, so that an
// interval not containing α is still drawn where it lies).
func alphaPoints(in []AlphaPoint) ([]plotter.XY, *plotter.YErrorBars, error) {
	ok := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	sorted := slices.SortedStableFunc(slices.Values(in), func(a, b AlphaPoint) int { return cmp.Compare(a.Minutes, b.Minutes) })
	var pts []plotter.XY
	bars := &plotter.YErrorBars{}
	for _, p := range sorted {
		if !ok(p.Minutes) || !ok(p.Alpha) {
			continue
		}
		pts = append(pts, plotter.XY{X: p.Minutes, Y: p.Alpha})
		if (p.Lo == 0 && p.Hi == 0) || !ok(p.Lo) || !ok(p.Hi) {
			continue
		}
		if p.Lo > p.Hi {
			return nil, nil, fmt.Errorf("at %g min: interval Lo = %g > Hi = %g", p.Minutes, p.Lo, p.Hi)
		}
		half := (p.Hi - p.Lo) / 2
		bars.XYs = append(bars.XYs, plotter.XY{X: p.Minutes, Y: p.Lo + half})
		bars.YErrors = append(bars.YErrors, struct{ Low, High float64 }{half, half})
	}
	return pts, bars, nil
}

// errBarThumb is the legend thumbnail of an error bar: a vertical line with
// caps.
type errBarThumb struct{ draw.LineStyle }

// Thumbnail implements plot.Thumbnailer.
func (t errBarThumb) Thumbnail(c *draw.Canvas) {
	x := c.Center().X
	w := vg.Points(4)
	c.StrokeLine2(t.LineStyle, x, c.Min.Y, x, c.Max.Y)
	c.StrokeLine2(t.LineStyle, x-w, c.Min.Y, x+w, c.Min.Y)
	c.StrokeLine2(t.LineStyle, x-w, c.Max.Y, x+w, c.Max.Y)
}
