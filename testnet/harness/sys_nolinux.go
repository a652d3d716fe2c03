//go:build !linux

package harness

// physicalMemory is unknown here (0).
func physicalMemory() uint64 { return 0 }
