package score

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	assert.Equal(t, Params{
		HalfLife: 14 * 24 * time.Hour, Saturation: 5, SelfWeight: 0.5,
		Alpha: 0.15, Epsilon: 1e-9, MaxIter: 200, Kappa: 2,
	}, p)
	bad := Params{HalfLife: -1, Saturation: math.NaN(), SelfWeight: 2, Alpha: -0.1,
		Epsilon: math.Inf(1), MaxIter: -3, Kappa: 0}
	assert.Equal(t, p, New(bad).Params(), "invalid values fall back to defaults")
	custom := Params{HalfLife: time.Hour, Saturation: 3, SelfWeight: 1, Alpha: 1, Epsilon: 1e-6, MaxIter: 7, Kappa: 1}
	assert.Equal(t, custom, New(custom).Params(), "valid values are kept")
}

func TestTimeDecay(t *testing.T) {
	h := DefaultHalfLife
	tests := []struct {
		name string
		ages []time.Duration // one success per age
		want float64         // decayed successes at now
	}{
		{"fresh", []time.Duration{0}, 1},
		{"one half-life", []time.Duration{h}, 0.5},
		{"two half-lives", []time.Duration{2 * h}, 0.25},
		{"half a half-life", []time.Duration{h / 2}, math.Sqrt2 / 2},
		{"mixed", []time.Duration{0, h, 3 * h}, 1 + 0.5 + 0.125},
		{"ancient", []time.Duration{200 * 365 * 24 * time.Hour}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Params{})
			for _, age := range tc.ages {
				attest(e, "A", "B", 1, true, now.Add(-age))
			}
			got := e.Pair("A", "B", now)
			assert.InDelta(t, tc.want, got.Successes, 1e-12)
			assert.Zero(t, got.Failures)
			assert.Equal(t, len(tc.ages), got.Attestations)
		})
	}
}

func TestDecayIndependentOfAddOrderAndRebase(t *testing.T) {
	// Evidence far apart in time forces a rebase of the accumulators; the
	// decayed weight must not depend on it.
	h := DefaultHalfLife
	e := New(Params{})
	attest(e, "A", "B", 1, true, now.Add(-300*h)) // reference time here
	attest(e, "A", "B", 1, false, now.Add(-h))    // 299 half-lives later: rebase
	attest(e, "A", "C", 1, true, now)
	got := e.Pair("A", "B", now)
	assert.InDelta(t, 0, got.Successes, 1e-12)
	assert.InDelta(t, 0.5, got.Failures, 1e-12)
	assert.InDelta(t, 1, e.Pair("A", "C", now).Successes, 1e-12)
}

func TestFutureEvidenceIsCapped(t *testing.T) {
	e := New(Params{})
	attest(e, "A", "B", 3, true, now.Add(10*DefaultHalfLife))
	got := e.Pair("A", "B", now)
	assert.InDelta(t, 3, got.Successes, 1e-12, "never more than the raw count")
}

func TestBallotStuffing(t *testing.T) {
	sat := DefaultSaturation
	e := New(Params{})
	attest(e, "I", "X", 1000, true, now)
	attest(e, "I", "Y", 5, true, now)
	x, y := e.Pair("I", "X", now), e.Pair("I", "Y", now)
	assert.LessOrEqual(t, x.Local, sat, "local trust never exceeds the saturation")
	assert.Less(t, x.Local-y.Local, sat, "200 times the tasks buys less than the saturation bound")
	// g(5) = 5(1−1/e) ≈ 3.16 and g(1000) ≈ 5: the stuffer gains ≈ 1.84.
	assert.InDelta(t, sat*math.Exp(-1), x.Local-y.Local, 1e-9)
	t.Logf("local trust: 1000 tasks %.4f, 5 tasks %.4f", x.Local, y.Local)
}

func TestLocalTrust(t *testing.T) {
	g := func(x float64) float64 { return 5 * (1 - math.Exp(-x/5)) }
	tests := []struct {
		name string
		s, f float64
		want float64
	}{
		{"nothing", 0, 0, 0},
		{"one success", 1, 0, g(1)},
		{"only failures", 0, 4, 0},
		{"failures weigh double", 3, 1, g(3) - 2*g(1)},
		{"one in three failed is about zero", 2, 1, max(0, g(2)-2*g(1))},
		{"saturated", 1e6, 0, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.InDelta(t, tc.want, localTrust(tc.s, tc.f, 5), 1e-12)
		})
	}
}

func TestAddIgnoresInvalidEvidence(t *testing.T) {
	e := New(Params{})
	e.Add(Evidence{Issuer: "A", Subject: "A", Success: true, IssuedAt: now})
	e.Add(Evidence{Issuer: "", Subject: "B", Success: true, IssuedAt: now})
	e.Add(Evidence{Issuer: "A", Subject: "", Success: true, IssuedAt: now})
	assert.False(t, e.Stale(), "ignored evidence does not make the engine stale")
	r := e.Compute(now)
	assert.Equal(t, uint64(3), r.Ignored)
	assert.Zero(t, r.Peers)
	assert.Zero(t, r.Iterations)
}

func TestStale(t *testing.T) {
	e := New(Params{})
	assert.False(t, e.Stale(), "empty engine")
	attest(e, "A", "B", 1, true, now)
	assert.True(t, e.Stale())
	e.Compute(now)
	assert.False(t, e.Stale())
	attest(e, "A", "C", 1, true, now)
	assert.True(t, e.Stale())
	e.Compute(now)
	e.SetAnchors("A", nil)
	assert.True(t, e.Stale(), "new anchors")
	e.Compute(now)
	require.False(t, e.Stale())
}
