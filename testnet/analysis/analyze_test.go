package analysis

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// TestBarabasiAlbert is the acceptance test on gonum's BA generator,
// n = 10,000, m = 3.
func TestBarabasiAlbert(t *testing.T) {
	calls := 0
	opts := testOpts
	opts.Progress = func(done, total int) {
		calls++
		if total != 400 { // 200 goodness-of-fit + min(200, 500) alpha resamples
			t.Errorf("progress total %d", total)
		}
	}
	r, err := Analyze(baEdges(t, 10000, 3, 1), opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("BA n=10000 m=3: %s", out)
	if r.Nodes != 10000 || r.Edges != 3*(10000-3) {
		t.Errorf("nodes %d edges %d", r.Nodes, r.Edges)
	}
	if r.Alpha < 2.5 || r.Alpha > 3.2 {
		t.Errorf("alpha = %.3f, want 2.5–3.2 for a finite BA graph", r.Alpha)
	}
	if !(r.AlphaCI[0] < r.Alpha && r.Alpha < r.AlphaCI[1]) {
		t.Errorf("alpha_ci %v does not contain alpha %.3f", r.AlphaCI, r.Alpha)
	}
	// REFERENCE: ≈1.56 decades at N = 10,000; the KS-chosen xmin moves it.
	if r.TailDecades < 1.2 || r.TailDecades > 2 {
		t.Errorf("tail decades = %.2f, want about 1.3–1.8", r.TailDecades)
	}
	if r.Degeneracy != 3 || !slices.Equal(r.KCoreLayers, []int{0, 0, 0, 10000}) {
		t.Errorf("k-core: degeneracy %d layers %v, want 3 and every node in the 3-core", r.Degeneracy, r.KCoreLayers)
	}
	if r.Assortativity > 0 || r.Assortativity < -0.2 {
		t.Errorf("assortativity %.3f, want slightly negative", r.Assortativity)
	}
	if len(r.RichClub) == 0 {
		t.Error("no rich-club thresholds")
	}
	if r.Verdict != Verdict(r) || r.Verdict == VerdictNotPowerLaw {
		t.Errorf("verdict %q", r.Verdict)
	}
	if calls != 400 {
		t.Errorf("%d progress calls, want 400", calls)
	}
}

func TestAnalyzeDeterministic(t *testing.T) {
	edges := baEdges(t, 600, 2, 5)
	a, err := Analyze(edges, Options{Bootstrap: 40, Seed: 3, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Analyze(edges, Options{Bootstrap: 40, Seed: 3, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("workers changed the report:\n%s\n%s", ja, jb)
	}
}

func TestAnalyzeSmallAndEmpty(t *testing.T) {
	if _, err := Analyze(nil, testOpts); err == nil {
		t.Error("empty graph: want an error")
	}
	if _, err := Analyze([]Edge{{1, 1}}, testOpts); err == nil {
		t.Error("only a self-loop: want an error")
	}
	r, err := Analyze(ring(5), testOpts)
	if !errors.Is(err, ErrTooFew) {
		t.Fatalf("5-node ring: err = %v, want ErrTooFew", err)
	}
	if r.Nodes != 5 || r.Degeneracy != 2 || r.Verdict != VerdictNotPowerLaw {
		t.Errorf("partial report %+v", r)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
	// Regular and complete graphs fit (degenerately) and still encode.
	for _, edges := range [][]Edge{ring(50), complete(20), star(40)} {
		r, err := Analyze(edges, Options{Bootstrap: 20, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

func TestVerdict(t *testing.T) {
	sig, weak, against := LR{R: 5, P: 0.001}, LR{R: 1, P: 0.3}, LR{R: -4, P: 0.001}
	good := Report{GofP: 0.5, Alpha: 2.5, NTail: 100, LRExponential: sig, LRLognormal: weak}
	cases := []struct {
		name string
		edit func(*Report)
		want string
	}{
		{"all criteria", func(*Report) {}, VerdictPowerLaw},
		{"lognormal preferred does not matter", func(r *Report) { r.LRLognormal = against }, VerdictPowerLaw},
		{"gof_p exactly 0.1", func(r *Report) { r.GofP = 0.1 }, VerdictPowerLaw},
		{"alpha 3", func(r *Report) { r.Alpha = 3 }, VerdictHeavyTailed},
		{"alpha 2", func(r *Report) { r.Alpha = 2 }, VerdictHeavyTailed},
		{"short tail", func(r *Report) { r.NTail = 49 }, VerdictHeavyTailed},
		{"rejected, lognormal inconclusive", func(r *Report) { r.GofP = 0.05 }, VerdictHeavyTailed},
		{"rejected, lognormal wins", func(r *Report) { r.GofP = 0.05; r.LRLognormal = against }, VerdictNotPowerLaw},
		{"exponential not beaten", func(r *Report) { r.LRExponential = weak }, VerdictNotPowerLaw},
		{"exponential preferred", func(r *Report) { r.LRExponential = against }, VerdictNotPowerLaw},
		{"exponential p exactly 0.1", func(r *Report) { r.LRExponential.P = 0.1 }, VerdictNotPowerLaw},
		{"zero report", func(r *Report) { *r = Report{} }, VerdictNotPowerLaw},
	}
	for _, tc := range cases {
		r := good
		tc.edit(&r)
		if got := Verdict(r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// BenchmarkAnalyze is Analyze on a 1,000-node BA graph (m = 3) with the
// production bootstrap of 2500 data sets (and 500 alpha resamples).
func BenchmarkAnalyze(b *testing.B) {
	edges := baEdges(b, 1000, 3, 1)
	for b.Loop() {
		if _, err := Analyze(edges, Options{Bootstrap: 2500, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
