//go:build unix

package localapi

import "syscall"

// syscallUmask sets the process umask so the socket is never created with
// wider permissions than 0600, even for the instant before Chmod.
func syscallUmask(mask int) int { return syscall.Umask(mask) }
