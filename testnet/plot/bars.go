package plot

import (
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bars draws counts[k] as a bar centred on x = k, from the bottom of the
// axis (or 0 on a linear axis) up, with the count printed above when it
// fits. Unlike plotter.BarChart it works on a log y axis, where zero counts
// get no bar.
type bars struct {
	counts []int
	fill   color.Color
	log    bool
}

// barWidth is the width of a bar in x units.
const barWidth = 0.8

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	base := c.Min.Y
	if !b.log {
		base = trY(0)
	}
	sty := p.Y.Tick.Label
	sty.Font = font.From(sans, 10)
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
	labels := true
	for _, n := range b.counts {
		if sty.Width(strconv.Itoa(n)) > trX(barWidth)-trX(0) {
			labels = false // too many bars for their numbers
		}
	}
	for k, n := range b.counts {
		if n == 0 {
			continue
		}
		c.SetColor(b.fill) // FillText below changes the colour
		x0, x1 := trX(float64(k)-barWidth/2), trX(float64(k)+barWidth/2)
		top := trY(float64(n))
		r := vg.Rectangle{Min: vg.Point{X: x0, Y: base}, Max: vg.Point{X: x1, Y: top}}
		c.Fill(r.Path())
		if labels {
			c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: top + vg.Points(2)}, strconv.Itoa(n))
		}
	}
}

// Thumbnail implements plot.Thumbnailer: a filled square.
func (b *bars) Thumbnail(c *draw.Canvas) {
	cx, cy, h := c.Center().X, c.Center().Y, (c.Max.Y-c.Min.Y)/2
	r := vg.Rectangle{Min: vg.Point{X: cx - h, Y: cy - h}, Max: vg.Point{X: cx + h, Y: cy + h}}
	c.SetColor(b.fill)
	c.Fill(r.Path())
}
