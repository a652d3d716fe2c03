package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// figure is a plot on its way to a PNG: the gonum plot, and what save draws
// over it — the legend on a white box in the emptiest corner, and a note
// such as "no data" in the middle.
type figure struct {
	p       *plot.Plot
	legend  plot.Legend
	entries []string       // legend texts, to size its box
	marks   [][]plotter.XY // drawn polylines (or single points) in data coordinates, for the legend to avoid
	note    string
}

// newFigure returns an empty figure with the given title and axis labels.
func newFigure(title, xlabel, ylabel string) *figure {
	return &figure{p: newPlot(title, xlabel, ylabel), legend: newLegend()}
}

// addLegend adds a legend entry drawn with the given thumbnails.
func (f *figure) addLegend(text string, thumbs ...plot.Thumbnailer) {
	f.legend.Add(text, thumbs...)
	f.entries = append(f.entries, text)
}

// markPoints records scattered points for the legend to avoid.
func (f *figure) markPoints(pts []plotter.XY) {
	for _, p := range pts {
		f.marks = append(f.marks, []plotter.XY{p})
	}
}

// markLine records a polyline for the legend to avoid.
func (f *figure) markLine(pts []plotter.XY) { f.marks = append(f.marks, pts) }

// noData turns f into the empty figure: linear unlabelled axes and a note.
func (f *figure) noData() {
	for _, a := range []*plot.Axis{&f.p.X, &f.p.Y} {
		a.Scale, a.Tick.Marker = plot.LinearScale{}, plot.ConstantTicks{}
		a.Min, a.Max = 0, 1
	}
	f.legend, f.entries, f.marks = newLegend(), nil, nil
	f.note = "no data"
}

// save renders f at Width × Height pixels and writes it atomically to path.
func (f *figure) save(path string) (err error) {
	defer func() {
		if r := recover(); r != nil { // gonum panics on ranges it cannot draw
			err = fmt.Errorf("plot: rendering %s: %v", path, r)
		}
	}()
	fixLogRange(&f.p.X)
	fixLogRange(&f.p.Y)
	c, da := f.render()
	k, hits := f.placeLegend(da)
	if hits > 0 && f.makeRoom(da, k) { // raise the data below the legend and draw again
		c, da = f.render()
		k, _ = f.placeLegend(da)
	}
	f.drawLegend(da, k)
	return writeAtomic(path, vgimg.PngCanvas{Canvas: c})
}

// render draws f but its legend on a new canvas and returns the canvas and
// the data area.
func (f *figure) render() (*vgimg.Canvas, draw.Canvas) {
	c := vgimg.NewWith(vgimg.UseWH(pixels(Width), pixels(Height)), vgimg.UseDPI(dpi))
	m := vg.Points(margin)
	da := f.drawPlot(draw.Crop(draw.New(c), m, -m, m, -m))
	if f.note != "" {
		sty := f.p.Title.TextStyle
		sty.Font = font.From(sans, noteSize)
		sty.Color = color.Gray{Y: 110}
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		da.FillText(sty, da.Center(), f.note)
	}
	return c, da
}

// margin is the white border around a figure, in points.
const margin = 6

// drawPlot draws f's plot in c and returns its data area. The axis labels
// are drawn here rather than by gonum, which reserves room for them around
// the arithmetic middle of the axis range — far off-centre on a log axis,
// squeezing the data area.
func (f *figure) drawPlot(c draw.Canvas) draw.Canvas {
	xl, yl := f.p.X.Label, f.p.Y.Label
	f.p.X.Label.Text, f.p.Y.Label.Text = "", ""
	defer func() { f.p.X.Label, f.p.Y.Label = xl, yl }()
	var left, bottom vg.Length
	if xl.Text != "" {
		bottom = xl.TextStyle.Height(xl.Text) + xl.Padding
	}
	if yl.Text != "" {
		left = yl.TextStyle.Height(yl.Text) + yl.Padding
	}
	pc := draw.Crop(c, left, 0, bottom, 0)
	f.p.Draw(pc)
	da := f.p.DataCanvas(pc)
	if xl.Text != "" {
		sty := xl.TextStyle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
		c.FillText(sty, vg.Point{X: da.Center().X, Y: c.Min.Y + sty.FontExtents().Descent}, xl.Text)
	}
	if yl.Text != "" {
		sty := yl.TextStyle
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
		sty.Rotation = math.Pi / 2
		x := c.Min.X + sty.Height(yl.Text) - sty.FontExtents().Descent
		c.FillText(sty, vg.Point{X: x, Y: da.Center().Y}, yl.Text)
	}
	return da
}

// pixels converts a length in pixels at dpi to a vg.Length.
func pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }
