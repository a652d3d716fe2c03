//go:build linux || darwin || freebsd

package node

import "syscall"

// freeDisk is the space an unprivileged process may still use on the
// filesystem holding path.
func freeDisk(path string) (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
