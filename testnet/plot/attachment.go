package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// AttachmentPoint is one degree class for Attachment: the nodes that had
// Degree partners at the start of a window gained Gained new partners each,
// on average, during it.
type AttachmentPoint struct {
	Degree int
	Gained float64
}

// Attachment writes to path a log–log scatter plot of the mean number of new
// partners per node (y) against degree at the window start (x), with the
// fitted preferential-attachment law gained ∝ k^beta as a dashed line; the
// legend shows beta and its confidence interval ci = [lo, hi] (ci zero, or
// not finite, shows none). The line's constant is the least-squares one for
// the given beta in log space, c = exp(mean(ln gained − beta·ln k)) over the
// plotted points; a NaN or ±Inf beta draws no line.
//
// Points with degree 0 or nothing gained cannot be drawn on log axes: they
// are left out and counted in the legend. Points with a NaN or ±Inf gain are
// dropped. A negative degree or gain, or ci[0] > ci[1], is an error; with no
// point left the figure says "no data".
func Attachment(path, title string, pts []AttachmentPoint, beta float64, ci [2]float64) error {
	if err := checkPath(path); err != nil {
		return err
	}
	if ci[0] > ci[1] {
		return fmt.Errorf("plot: Attachment: confidence interval [%g, %g] is inverted", ci[0], ci[1])
	}
	f := newFigure(title, "degree k at window start (partners)", "mean new partners per node (in window)")
	var xys []plotter.XY
	hidden := 0
	for i, p := range pts {
		if p.Degree < 0 || p.Gained < 0 {
			return fmt.Errorf("plot: Attachment point %d: negative degree %d or gain %g", i, p.Degree, p.Gained)
		}
		switch {
		case math.IsNaN(p.Gained) || math.IsInf(p.Gained, 0):
		case p.Degree == 0 || p.Gained == 0:
			hidden++
		default:
			xys = append(xys, plotter.XY{X: float64(p.Degree), Y: p.Gained})
		}
	}
	if len(xys) == 0 {
		f.noData()
		return f.save(path)
	}
	setLog(&f.p.X)
	setLog(&f.p.Y)
	sc, err := plotter.NewScatter(plotter.XYs(xys))
	if err != nil {
		return fmt.Errorf("plot: Attachment: %w", err)
	}
	sc.GlyphStyle = glyph(0, 220, vg.Points(3.5))
	f.p.Add(sc)
	f.markPoints(xys)
	label := fmt.Sprintf("degree classes (n = %d)", len(xys))
	if hidden > 0 {
		label = fmt.Sprintf("degree classes (n = %d; %d more at k = 0 or gain 0, not drawn)", len(xys), hidden)
	}
	f.addLegend(label, sc)
	if fit := powerFit(xys, beta); fit != nil {
		line, err := plotter.NewLine(plotter.XYs(fit))
		if err != nil {
			return fmt.Errorf("plot: Attachment fit: %w", err)
		}
		line.LineStyle = dashed(colour(1, 255))
		f.p.Add(line)
		f.markLine(fit)
		f.addLegend(betaLabel(beta, ci), line)
	}
	return f.save(path)
}

// betaLabel is the legend text of the fitted line.
func betaLabel(beta float64, ci [2]float64) string {
	s := fmt.Sprintf("fit c·k^β, β = %.2f", beta)
	finite := !math.IsNaN(ci[0]+ci[1]) && !math.IsInf(ci[0]+ci[1], 0)
	if finite && (ci[0] != 0 || ci[1] != 0) {
		s += fmt.Sprintf(" (CI %.2f – %.2f)", ci[0], ci[1])
	}
	return s
}

// powerFit returns c·k^beta over the k range of xys (all positive), with c
// the least-squares constant in log space, or nil for a non-finite beta.
func powerFit(xys []plotter.XY, beta float64) []plotter.XY {
	if math.IsNaN(beta) || math.IsInf(beta, 0) {
		return nil
	}
	sum, kmin, kmax := 0.0, math.Inf(1), math.Inf(-1)
	for _, p := range xys {
		sum += math.Log(p.Y) - beta*math.Log(p.X)
		kmin, kmax = math.Min(kmin, p.X), math.Max(kmax, p.X)
	}
	c := math.Exp(sum / float64(len(xys)))
	const n = 16
	line := make([]plotter.XY, 0, n+1)
	for i := 0; i <= n; i++ {
		k := kmin * math.Pow(kmax/kmin, float64(i)/n)
		line = append(line, plotter.XY{X: k, Y: c * math.Pow(k, beta)})
	}
	return line
}
