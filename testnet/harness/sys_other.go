//go:build !unix

package harness

import "time"

// cpuTime is unknown here (-1): the rate adapts on latency alone.
func cpuTime() time.Duration { return -1 }

// fdLimit is unknown here (0).
func fdLimit() int { return 0 }

// openFDs is unknown here (-1).
func openFDs() int { return -1 }
