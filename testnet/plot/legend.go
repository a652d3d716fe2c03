package plot

import (
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legendInset is the gap between the legend box and the data area's edge,
// legendPad the margin inside the box, legendGap the clearance around it
// that marks should keep (all in points).
const (
	legendInset = 6
	legendPad   = 5
	legendGap   = 5
)

// corner is a legend position in the data area.
type corner struct{ top, left bool }

// corners in order of preference when several are equally empty.
var corners = []corner{{true, false}, {true, true}, {false, false}, {false, true}}

// legendArea returns the part of the data area da the legend is laid out
// in: da less the inset and the box's inner margin.
func legendArea(da draw.Canvas) draw.Canvas {
	inset := vg.Points(legendInset + legendPad)
	da.Min.X, da.Min.Y = da.Min.X+inset, da.Min.Y+inset
	da.Max.X, da.Max.Y = da.Max.X-inset, da.Max.Y-inset
	return da
}

// placeLegend returns the corner of the data area da where f's legend
// covers the fewest marks, and how many it covers there.
func (f *figure) placeLegend(da draw.Canvas) (corner, int) {
	if len(f.entries) == 0 {
		return corners[0], 0
	}
	inner, samples := legendArea(da), f.markSamples(da)
	best, bestN := corners[0], math.MaxInt
	gap := vg.Points(legendGap)
	for _, c := range corners {
		box := f.legendBox(inner, c)
		box.Min.X, box.Min.Y, box.Max.X, box.Max.Y = box.Min.X-gap, box.Min.Y-gap, box.Max.X+gap, box.Max.Y+gap
		n := 0
		for _, s := range samples {
			if box.Min.X <= s.X && s.X <= box.Max.X && box.Min.Y <= s.Y && s.Y <= box.Max.Y {
				n++
			}
		}
		if n < bestN {
			best, bestN = c, n
		}
	}
	return best, bestN
}

// makeRoom raises the top of the y axis so that the data, drawn again in a
// data area like da, stays below a legend in the top corner on k's side. It
// declines (returning false) when the legend would take over half the
// height.
func (f *figure) makeRoom(da draw.Canvas, k corner) bool {
	box := f.legendBox(legendArea(da), corner{top: true, left: k.left})
	h := da.Max.Y - da.Min.Y
	q := float64((box.Min.Y - vg.Points(legendGap+2) - da.Min.Y) / h) // share of the height left to the data
	if q < 0.5 || q >= 1 {
		return false
	}
	a := &f.p.Y
	if isLog(a) {
		a.Max = a.Min * math.Pow(a.Max/a.Min, 1/q)
	} else {
		a.Max = a.Min + (a.Max-a.Min)/q
	}
	return true
}

// drawLegend draws f's legend on a white box in corner k of the data area
// da.
func (f *figure) drawLegend(da draw.Canvas, k corner) {
	if len(f.entries) == 0 {
		return
	}
	inner := legendArea(da)
	box := f.legendBox(inner, k)
	da.SetColor(color.NRGBA{255, 255, 255, 230})
	da.Fill(box.Path())
	da.SetLineStyle(draw.LineStyle{Color: color.Gray{Y: 170}, Width: vg.Points(0.75)})
	da.Stroke(box.Path())
	f.legend.Top, f.legend.Left = k.top, k.left
	f.legend.Draw(inner)
}

// legendBox returns the box, margin included, that f's legend occupies when
// drawn in canvas c at corner k (mirroring plot.Legend.Draw's layout).
func (f *figure) legendBox(c draw.Canvas, k corner) vg.Rectangle {
	sty := f.legend.TextStyle
	var w, h vg.Length
	for _, e := range f.entries {
		w = max(w, sty.Width(e))
		h = max(h, sty.Rectangle(e).Max.Y)
	}
	n := vg.Length(len(f.entries))
	w += f.legend.ThumbnailWidth + sty.Width(" ")
	h = n*h + (n-1)*f.legend.Padding + sty.FontExtents().Descent

	var r vg.Rectangle
	if k.left {
		r.Min.X, r.Max.X = c.Min.X, c.Min.X+w
	} else {
		r.Min.X, r.Max.X = c.Max.X-w, c.Max.X
	}
	if k.top {
		r.Min.Y, r.Max.Y = c.Max.Y-h, c.Max.Y
	} else {
		r.Min.Y, r.Max.Y = c.Min.Y, c.Min.Y+h
	}
	pad := vg.Points(legendPad)
	r.Min.X, r.Min.Y, r.Max.X, r.Max.Y = r.Min.X-pad, r.Min.Y-pad, r.Max.X+pad, r.Max.Y+pad
	return r
}

// markSamples returns f's marks in canvas coordinates of the data area da,
// polylines sampled every few points so that a segment crossing a box
// counts even when its ends lie outside.
func (f *figure) markSamples(da draw.Canvas) []vg.Point {
	trX, trY := f.p.Transforms(&da)
	var out []vg.Point
	for _, line := range f.marks {
		var prev vg.Point
		for i, p := range line {
			q := vg.Point{X: trX(p.X), Y: trY(p.Y)}
			if i > 0 {
				d := q.Sub(prev)
				steps := int(math.Hypot(float64(d.X), float64(d.Y))/3) + 1
				for s := 1; s < steps; s++ {
					out = append(out, prev.Add(d.Scale(vg.Length(s)/vg.Length(steps))))
				}
			}
			out = append(out, q)
			prev = q
		}
	}
	return out
}
