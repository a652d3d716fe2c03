//go:build race

package harness

// raceEnabled reports a -race build: the race detector slows everything
// several times, so the churn test runs its smallest profile
// (churn_test.go).
const raceEnabled = true
