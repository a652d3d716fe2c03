package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// doctorBackend answers /v1/doctor with a canned report.
type doctorBackend struct {
	fakeBackend
	report localapi.Doctor
}

func (b *doctorBackend) Doctor(context.Context) (localapi.Doctor, error) { return b.report, nil }

func cannedDoctor(worst string) localapi.Doctor {
	d := localapi.Doctor{Health: worst, CheckedAt: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	for _, name := range []string{"reachability", "relay", "dht", "clock", "store"} {
		d.Checks = append(d.Checks, localapi.DoctorCheck{Name: name, Status: localapi.DoctorOK, Summary: name + " fine", Details: map[string]string{"k": "v"}})
	}
	if worst != localapi.DoctorOK {
		d.Checks[2] = localapi.DoctorCheck{Name: "dht", Status: worst, Summary: "the DHT routing table is empty", Fix: "join a mesh with --bootstrap", Details: map[string]string{"routing_table_size": "0"}}
	}
	return d
}

// TestDoctorExitCodes: warnings exit 0; a failed check prints the whole
// report on stdout and exits 1 with an internal error naming the check.
func TestDoctorExitCodes(t *testing.T) {
	b := &doctorBackend{report: cannedDoctor(localapi.DoctorWarn)}
	home := startBackend(t, b)

	var d localapi.Doctor
	wantOK(t, cli(t, home, "doctor", "--json"), &d)
	if d.Health != "warn" || len(d.Checks) != 5 || d.Checks[2].Fix == "" {
		t.Errorf("doctor --json = %+v", d)
	}
	r := cli(t, home, "doctor")
	if r.code != 0 || !strings.Contains(r.stdout, "dht           warn  the DHT routing table is empty\n") ||
		!strings.Contains(r.stdout, "fix:  join a mesh with --bootstrap") || !strings.Contains(r.stdout, "health: warn") {
		t.Errorf("doctor text (exit %d):\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	b.report = cannedDoctor(localapi.DoctorFail)
	r = cli(t, home, "doctor", "--json")
	if r.code != exitFailure {
		t.Errorf("exit %d with a failed check, want %d", r.code, exitFailure)
	}
	decodeOK(t, r.stdout, &d)
	if d.Health != "fail" || d.Checks[2].Status != "fail" {
		t.Errorf("report = %+v", d)
	}
	var env localapi.Envelope
	if err := json.Unmarshal([]byte(r.stderr), &env); err != nil || env.Status != "error" || env.Code != localapi.CodeInternal || !strings.Contains(env.Message, "1 check failed: dht") || env.Hint == "" {
		t.Errorf("stderr = %q (%v)", r.stderr, err)
	}
	r = cli(t, home, "doctor")
	if r.code != exitFailure || !strings.Contains(r.stdout, "health: fail") || !strings.Contains(r.stderr, "error: doctor: 1 check failed: dht") {
		t.Errorf("doctor text (exit %d):\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	wantError(t, cli(t, shortHome(t), "doctor", "--json"), localapi.CodeNotRunning, exitNotRunning)
}

// TestDoctorDaemon asks real daemons: an anchor alone fails the DHT check
// (exit 1, report on stdout); once a second daemon joined, nothing fails
// and the clock check has heard from a peer.
func TestDoctorDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	homeA, homeB := t.TempDir(), t.TempDir()
	a := startDaemon(t, bin, "A", homeA, "--anchor", "--json")
	readyA := a.ready(t)

	r := pilotRun(t, bin, 60*time.Second, "--home", homeA, "doctor", "--json")
	if r.code != exitFailure {
		t.Fatalf("a lone anchor: exit %d, want %d; stderr %s", r.code, exitFailure, r.stderr)
	}
	var d localapi.Doctor
	decodeOK(t, r.stdout, &d)
	byName := map[string]localapi.DoctorCheck{}
	for _, c := range d.Checks {
		byName[c.Name] = c
	}
	if byName["dht"].Status != "fail" || byName["dht"].Details["routing_table_size"] != "0" || byName["store"].Status == "fail" {
		t.Errorf("lone anchor report: %+v", d)
	}

	b := startDaemon(t, bin, "B", homeB, "--bootstrap", tcpJoin(t, readyA), "--json")
	b.ready(t)
	eventually(t, "B's doctor passes", 60*time.Second, 500*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 60*time.Second, "--home", homeB, "doctor", "--json")
		if r.code != 0 {
			return false, r.stdout + r.stderr
		}
		decodeOK(t, r.stdout, &d)
		return true, ""
	})
	for _, c := range d.Checks {
		byName[c.Name] = c
	}
	if d.Health == "fail" || byName["clock"].Status != "ok" || byName["clock"].Details["peers_answered"] == "0" || byName["dht"].Status != "ok" {
		t.Errorf("B's report: %+v", d)
	}
	a.stop(t)
	b.stop(t)
}
