//go:build unix

package harness

import (
	"os"
	"syscall"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used, -1 when
// unknown.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openFDs counts this process's open file descriptors, -1 when unknown.
func openFDs() int {
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if es, err := os.ReadDir(dir); err == nil {
			return len(es) - 1 // the directory being read
		}
	}
	return -1
}
