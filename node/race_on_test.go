//go:build race

package node

// raceEnabled reports a -race build: the race detector slows everything
// several times, so load tests run their smaller profile (load_test.go).
const raceEnabled = true
