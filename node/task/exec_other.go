//go:build !unix

package task

import "os/exec"

// ownProcessGroup: without Unix process groups, cancellation kills the
// command's process only (exec.CommandContext's default).
func ownProcessGroup(*exec.Cmd) {}
