//go:build !(linux || darwin || freebsd)

package node

// freeDisk is unknown on this system.
func freeDisk(string) (uint64, bool) { return 0, false }
