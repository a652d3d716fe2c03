package main

import (
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Knobs of TestCrashKill9, from the environment:
//
//	PILOT_CRASH_ROUNDS  kill/restart/verify rounds (default 3; the long profile uses more)
//	PILOT_CRASH_SEED    seed of the RNG that picks the kill moments (default 1)
const (
	crashRoundsEnv = "PILOT_CRASH_ROUNDS"
	crashSeedEnv   = "PILOT_CRASH_SEED"
	// crashMaxRounds bounds a long profile: every round restarts a daemon.
	crashMaxRounds = 200
	// crashAttestationBudget keeps the victim's attestations under the
	// store's default issuer rate (60 per issuer per hour): above it, a
	// finished task is rightly not attested, which the test would have to
	// tell apart from a lost attestation.
	crashAttestationBudget = 50
)

// crashEnvInt reads a positive integer knob, def when unset.
func crashEnvInt(t *testing.T, name string, def, maxVal uint64) uint64 {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 || n > maxVal {
		t.Fatalf("%s=%q: want an integer from 1 to %d", name, s, maxVal)
	}
	return n
}

// storeCorruption matches what Badger says when it cannot trust its files.
var storeCorruption = regexp.MustCompile(`(?i)manifest|checksum|corrupt`)

// startVictim starts `pilot up` like startDaemon and also returns the file
// its stderr goes to, which the crash test searches for store errors.
func startVictim(t *testing.T, bin, name, home string, args ...string) (*daemon, string) {
	t.Helper()
	return startDaemonLog(t, bin, name, home, args...)
}

// kill9 sends SIGKILL and waits for the process to be gone; it must have
// died of the signal, not exited by itself before.
func (d *daemon) kill9(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", d.name, err)
	}
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("daemon %s still runs 30s after SIGKILL", d.name)
	}
	ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("daemon %s ended with %v, not by SIGKILL: it had exited before the kill", d.name, d.waitErr)
	}
}

// checkStoreLog fails the test if the daemon's log shows Badger distrusting
// its files.
func checkStoreLog(t *testing.T, name, logPath string) {
	t.Helper()
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if m := storeCorruption.Find(logs); m != nil {
		t.Fatalf("%s: the store reported %q after the crash:\n%s", name, m, logs)
	}
}
