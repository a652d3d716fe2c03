package plot

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one arm's degree sample for DegreeCCDF.
type Series struct {
	// Name labels the series in the legend, such as "reputation" or "random".
	Name string
	// Degrees holds one partner degree per node; zeros count towards the
	// total but cannot be drawn on a log axis.
	Degrees []int
	// Alpha and Xmin are the fitted power law P(k) ∝ k^-Alpha for k ≥ Xmin,
	// drawn as a line. Alpha == 0 (or NaN/±Inf) means no fit line.
	Alpha float64
	Xmin  int
}

// DegreeCCDF writes to path a log–log plot of the empirical complementary
// CDF P(K ≥ k) against degree k ≥ 1, one marker series per Series, plus each
// fitted power law as a dashed line from Xmin to the largest degree: the
// CCDF of P(k) ∝ k^-α falls as k^(1-α), and the line is scaled to equal the
// empirical CCDF at Xmin. Legend entries read "name (α = 2.41, xmin = 3)".
//
// Nodes of degree 0 count in the denominator, so P(K ≥ 1) is the fraction
// of nodes with any partner, but they have no point of their own. It is an
// error for a series to have no name or a negative degree, or for a fit to
// have α ≤ 1 or xmin outside 1..max degree. With no degree ≥ 1 in any series
// the figure says "no data".
func DegreeCCDF(path, title string, series ...Series) error {
	if err := checkPath(path); err != nil {
		return err
	}
	f := newFigure(title, "degree k (partners)", "P(K ≥ k)  (fraction of nodes)")
	setLog(&f.p.X)
	setLog(&f.p.Y)
	drawn := 0
	for i, s := range series {
		if err := checkSeries(s); err != nil {
			return fmt.Errorf("plot: DegreeCCDF series %d: %w", i, err)
		}
		pts := ccdf(s.Degrees)
		if len(pts) == 0 {
			continue
		}
		drawn++
		sc, err := plotter.NewScatter(plotter.XYs(pts))
		if err != nil {
			return fmt.Errorf("plot: DegreeCCDF series %q: %w", s.Name, err)
		}
		sc.GlyphStyle = glyph(i, 255, vg.Points(3))
		f.p.Add(sc)
		f.markPoints(pts)
		label := s.Name
		if fit := fitLine(pts, s.Alpha, s.Xmin); fit != nil {
			line, err := plotter.NewLine(plotter.XYs(fit))
			if err != nil {
				return fmt.Errorf("plot: DegreeCCDF fit %q: %w", s.Name, err)
			}
			line.LineStyle = dashed(colour(i, 255))
			f.p.Add(line)
			f.markLine(fit)
			label = fmt.Sprintf("%s (α = %.2f, xmin = %d)", s.Name, s.Alpha, s.Xmin)
			f.addLegend(label, sc, line)
		} else {
			f.addLegend(label, sc)
		}
	}
	if drawn == 0 {
		f.noData()
	}
	return f.save(path)
}

// hasFit reports whether a Series asks for a fit line.
func hasFit(alpha float64) bool { return alpha != 0 && !math.IsNaN(alpha) && !math.IsInf(alpha, 0) }

// checkSeries validates one Series.
func checkSeries(s Series) error {
	if s.Name == "" {
		return fmt.Errorf("no name")
	}
	maxDeg := 0
	for _, d := range s.Degrees {
		if d < 0 {
			return fmt.Errorf("%q: negative degree %d", s.Name, d)
		}
		maxDeg = max(maxDeg, d)
	}
	if !hasFit(s.Alpha) {
		return nil
	}
	if s.Alpha <= 1 {
		return fmt.Errorf("%q: fitted α = %g, want > 1", s.Name, s.Alpha)
	}
	if s.Xmin < 1 || s.Xmin > maxDeg {
		return fmt.Errorf("%q: xmin = %d outside 1..%d (the largest degree)", s.Name, s.Xmin, maxDeg)
	}
	return nil
}

// ccdf returns (k, P(K ≥ k)) for every distinct degree k ≥ 1, where P
// counts all nodes, those of degree 0 included.
func ccdf(degrees []int) []plotter.XY {
	d := slices.Clone(degrees)
	slices.Sort(d)
	n := float64(len(d))
	var pts []plotter.XY
	for i := 0; i < len(d); i++ {
		if d[i] >= 1 && (i == 0 || d[i] != d[i-1]) {
			pts = append(pts, plotter.XY{X: float64(d[i]), Y: float64(len(d)-i) / n})
		}
	}
	return pts
}

// fitLine returns the fitted CCDF c·(k/xmin)^(1-α) from xmin to the largest
// degree in pts, with c the empirical CCDF at xmin, or nil without a fit.
func fitLine(pts []plotter.XY, alpha float64, xmin int) []plotter.XY {
	if !hasFit(alpha) || len(pts) == 0 {
		return nil
	}
	x0, kmax := float64(xmin), pts[len(pts)-1].X
	c := 0.0
	for _, p := range pts { // P(K ≥ xmin) is the value at the first k ≥ xmin
		if p.X >= x0 {
			c = p.Y
			break
		}
	}
	if c == 0 {
		return nil
	}
	const n = 16 // a straight line on log–log axes; samples only guide the legend placement
	line := make([]plotter.XY, 0, n+1)
	for i := 0; i <= n; i++ {
		k := x0 * math.Pow(kmax/x0, float64(i)/n)
		line = append(line, plotter.XY{X: k, Y: c * math.Pow(k/x0, 1-alpha)})
	}
	return line
}
