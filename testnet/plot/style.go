package plot

import (
	"image/color"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Width and Height are the size of every figure in pixels.
const (
	Width  = 900
	Height = 600
)

// dpi is the resolution figures are rendered at; font sizes are in points
// (1/72 inch), so a 12 pt label is 16 px tall.
const dpi = 96

// Font sizes in points.
const (
	titleSize  = 16
	labelSize  = 14
	tickSize   = 12
	legendSize = 12
	noteSize   = 22
)

var (
	sans     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// palette is the Okabe–Ito colour-blind-safe palette (without yellow, too
// pale on white), in the order series are coloured.
var palette = []color.NRGBA{
	{0x00, 0x72, 0xB2, 0xFF}, // blue
	{0xD5, 0x5E, 0x00, 0xFF}, // vermillion
	{0x00, 0x9E, 0x73, 0xFF}, // bluish green
	{0xE6, 0x9F, 0x00, 0xFF}, // orange
	{0xCC, 0x79, 0xA7, 0xFF}, // reddish purple
	{0x56, 0xB4, 0xE9, 0xFF}, // sky blue
	{0x00, 0x00, 0x00, 0xFF}, // black
}

// shapes are the marker shapes, filled ones first, in the order series use
// them, so that series differ by more than colour.
var shapes = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{},
	draw.CrossGlyph{}, draw.RingGlyph{}, draw.PlusGlyph{}, draw.TriangleGlyph{},
}

// colour returns the i-th series colour with opacity alpha (0..255).
func colour(i int, alpha uint8) color.NRGBA {
	c := palette[i%len(palette)]
	c.A = alpha
	return c
}

// glyph returns the marker style of the i-th series.
func glyph(i int, alpha uint8, radius vg.Length) draw.GlyphStyle {
	return draw.GlyphStyle{Color: colour(i, alpha), Radius: radius, Shape: shapes[i%len(shapes)]}
}

// newPlot returns a plot with the package's fonts, a light grid and the
// given title and axis labels.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansBold, titleSize)
	p.Title.Padding = vg.Points(10)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, labelSize)
		a.Label.Padding = vg.Points(4)
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Tick.Marker = linearTicks{}
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	return p
}

// newLegend returns an empty legend in the package's font.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(sans, legendSize)
	l.TextStyle.Color = color.Black
	l.ThumbnailWidth = vg.Points(24)
	l.Padding = vg.Points(3)
	return l
}

// dashed is the line style of fitted curves in colour c.
func dashed(c color.Color) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(2), Dashes: []vg.Length{vg.Points(7), vg.Points(4)}}
}
