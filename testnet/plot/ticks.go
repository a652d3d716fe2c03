package plot

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// logTicks is plot.LogTicks with readable labels: plain decimals ("0.001",
// "1000") instead of Go's float formatting, and labels on the 2× and 5×
// minor ticks, or on all of them, when the axis spans too little for its
// decade ticks to label it. Only ticks within [min, max] are returned;
// extra ticks (such as "0" drawn at 0.8) are appended as given.
type logTicks struct {
	extra []plot.Tick
}

// Ticks implements plot.Ticker.
func (t logTicks) Ticks(min, max float64) []plot.Tick {
	var ticks []plot.Tick
	// LogTicks starts at 10^int(log10(min)), a decade too high below 1:
	// ask from a decade lower, and keep only ticks in range, as gonum lays
	// the plot out around every major tick's label, drawn or not — a decade
	// beyond the data would leave a wide empty margin. LogTicks also repeats
	// each decade as a minor tick, whose label would print twice.
	for _, tk := range (plot.LogTicks{Prec: -1}).Ticks(min/10, max) {
		dup := len(ticks) > 0 && ticks[len(ticks)-1].Value == tk.Value
		if !dup && tk.Value >= min*(1-1e-9) && tk.Value <= max*(1+1e-9) {
			ticks = append(ticks, tk)
		}
	}
	for _, labelled := range [][]int{{1}, {1, 2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}} {
		n := 0
		for i := range ticks {
			ticks[i].Label = ""
			v := ticks[i].Value
			if slices.Contains(labelled, mantissa(v)) {
				ticks[i].Label = formatTick(v)
				n++
			}
		}
		if n >= 2 && len(labelled) == 1 || n >= 3 {
			break
		}
	}
	for i, tk := range ticks { // an extra label replaces one at (nearly) its place
		for _, e := range t.extra {
			if tk.Value < e.Value*1.1 && tk.Value > e.Value/1.1 {
				ticks[i].Label = ""
			}
		}
	}
	return append(ticks, t.extra...)
}

// mantissa returns the leading digit of v > 0, as in 3 for 0.03.
func mantissa(v float64) int {
	return int(math.Round(v / math.Pow10(int(math.Floor(math.Log10(v)+1e-9)))))
}

// formatTick formats a tick value compactly: plain decimals from 0.0001 to
// below a million, "1e-5" and "2e6" outside that.
func formatTick(v float64) string {
	v, _ = strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64) // drop float noise
	if a := math.Abs(v); a == 0 || a >= 1e-4 && a < 1e6 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	s := strconv.FormatFloat(v, 'e', -1, 64) // 1e-05, 2e+06
	mant, exp, _ := strings.Cut(s, "e")
	exp = strings.TrimPrefix(exp, "+")
	neg := strings.HasPrefix(exp, "-")
	exp = strings.TrimLeft(strings.TrimPrefix(exp, "-"), "0")
	if neg {
		exp = "-" + exp
	}
	return mant + "e" + exp
}

// setLog puts axis a on a log scale with readable ticks.
func setLog(a *plot.Axis, extra ...plot.Tick) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{extra: extra}
}

// isLog reports whether axis a is on a log scale.
func isLog(a *plot.Axis) bool {
	_, ok := a.Scale.(plot.LogScale)
	return ok
}

// fixLogRange makes the range of a log axis drawable and readable: both
// ends positive (gonum panics otherwise) and at least a factor of 3 apart,
// which guarantees logTicks two labels.
func fixLogRange(a *plot.Axis) {
	if !isLog(a) {
		return
	}
	if !(a.Min > 0) || math.IsInf(a.Min, 0) {
		a.Min = 1
	}
	if !(a.Max > 0) || math.IsInf(a.Max, 0) {
		a.Max = a.Min
	}
	if a.Min > a.Max {
		a.Min, a.Max = a.Max, a.Min
	}
	if a.Max < 3*a.Min {
		g, f := math.Sqrt(a.Min*a.Max), math.Sqrt(3)
		a.Min, a.Max = g/f, g*f
	}
}

// intTicks labels whole numbers only, at a 1-2-5 step chosen so that at most
// about 15 are labelled.
type intTicks struct{}

// Ticks implements plot.Ticker.
func (intTicks) Ticks(min, max float64) []plot.Tick {
	lo, hi := math.Ceil(min), math.Floor(max)
	if hi < lo {
		return nil
	}
	step := 1.0
	for i := 0; (hi-lo)/step > 15; i++ {
		step *= []float64{2, 2.5, 2}[i%3] // 1, 2, 5, 10, 20, 50, …
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		v += 0 // no "-0"
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// linearTicks labels about six round values (steps of 1, 2 or 5 × 10^n)
// with an unlabelled tick between each two; gonum's default labels only
// about three.
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return nil
	}
	step := math.Pow10(int(math.Floor(math.Log10((max - min) / 6))))
	for _, f := range []float64{1, 2, 5, 10} {
		if (max-min)/(step*f) <= 8 {
			step *= f
			break
		}
	}
	var ticks []plot.Tick
	for i := math.Ceil(min / step * 2); i/2*step <= max*(1+1e-12); i++ {
		v := i/2*step + 0 // no "-0"
		if math.Mod(i, 2) == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}
