//go:build !unix

package harness

import "time"

// cpuTime is unknown here (-1): throughput samples report CPU as unknown.
func cpuTime() time.Duration { return -1 }

// openFDs is unknown here (-1).
func openFDs() int { return -1 }
