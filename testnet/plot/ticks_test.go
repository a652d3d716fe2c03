package plot

import (
	"testing"

	"gonum.org/v1/plot"
)

func TestFormatTick(t *testing.T) {
	for v, want := range map[float64]string{
		1: "1", 1000: "1000", 0.001: "0.001", 0.1 * 3: "0.3", 1e-4: "0.0001",
		1e-5: "1e-5", 2e6: "2e6", 100000: "100000", 0: "0",
	} {
		if got := formatTick(v); got != want {
			t.Errorf("formatTick(%g) = %q, want %q", v, got, want)
		}
	}
}

// Every log axis, however short once fixLogRange widened it, gets at least
// two short labels, all within its range.
func TestLogTicksReadable(t *testing.T) {
	for _, r := range [][2]float64{{1, 8}, {2, 6}, {0.8, 1000}, {1e-4, 1}, {3, 3.5}, {1.01, 1.02}, {9.01, 9.02}, {0.5, 2e6}, {1, 10}, {4, 4}} {
		a := plot.Axis{Min: r[0], Max: r[1], Scale: plot.LogScale{}}
		fixLogRange(&a)
		r = [2]float64{a.Min, a.Max}
		labels, seen := 0, map[float64]bool{}
		for _, tk := range (logTicks{}).Ticks(r[0], r[1]) {
			if seen[tk.Value] {
				t.Errorf("range %v: tick %g twice (its label would print twice)", r, tk.Value)
			}
			seen[tk.Value] = true
			if tk.Value < r[0]*(1-1e-9) || tk.Value > r[1]*(1+1e-9) {
				t.Errorf("range %v: tick %g outside it", r, tk.Value)
			}
			if tk.Label != "" {
				labels++
				if len(tk.Label) > 7 {
					t.Errorf("range %v: long label %q", r, tk.Label)
				}
			}
		}
		if labels < 2 {
			t.Errorf("range %v: %d labels, want at least 2", r, labels)
		}
	}
	extra := (logTicks{extra: []plot.Tick{{Value: 0.8, Label: "0"}}}).Ticks(0.5, 1.5)
	if last := extra[len(extra)-1]; last.Label != "0" {
		t.Errorf("extra tick missing: last tick %+v", last)
	}
	for _, tk := range extra[:len(extra)-1] {
		if tk.Value == 0.8 && tk.Label != "" {
			t.Errorf("tick %q drawn over the extra tick \"0\"", tk.Label)
		}
	}
}

func TestIntTicks(t *testing.T) {
	for _, r := range [][2]float64{{-0.6, 5.6}, {-0.6, 119.6}, {-0.6, 0.6}} {
		ticks := intTicks{}.Ticks(r[0], r[1])
		if len(ticks) == 0 || len(ticks) > 16 {
			t.Errorf("range %v: %d ticks", r, len(ticks))
		}
		for _, tk := range ticks {
			if tk.Value != float64(int(tk.Value)) {
				t.Errorf("range %v: non-integer tick %g", r, tk.Value)
			}
		}
	}
}

func TestLinearTicks(t *testing.T) {
	for _, r := range [][2]float64{{2.4, 4.2}, {0, 1000}, {-3, 7}, {0.001, 0.0013}, {5, 120}} {
		labels := 0
		for _, tk := range (linearTicks{}).Ticks(r[0], r[1]) {
			if tk.Value < r[0]-1e-12 || tk.Value > r[1]*(1+1e-12) {
				t.Errorf("range %v: tick %g outside it", r, tk.Value)
			}
			if tk.Label != "" {
				labels++
				if len(tk.Label) > 7 {
					t.Errorf("range %v: long label %q", r, tk.Label)
				}
			}
		}
		if labels < 3 || labels > 9 {
			t.Errorf("range %v: %d labels, want 3..9", r, labels)
		}
	}
}
