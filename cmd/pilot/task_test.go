package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// TestTaskAndPoloDaemons: a worker daemon runs tasks with --task-handler
// and admits anyone (--task-min-polo 0); the requester submits with
// --wait, gets the handler's result, and the worker's Polo in its view
// rises from 0 with one attestation behind it.
func TestTaskAndPoloDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("starts daemons; skipped with -short")
	}
	bin := pilotBinary(t)
	handler := filepath.Join(t.TempDir(), "handler.sh")
	script := "#!/bin/sh\ncat > /dev/null\necho '{\"answer\":42}'\n"
	if err := os.WriteFile(handler, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	homeA, homeW := shortHome(t), shortHome(t)
	a := startDaemon(t, bin, "A", homeA, "--public", "--json")
	readyA := a.ready(t)
	w := startDaemon(t, bin, "W", homeW, "--public", "--bootstrap", tcpJoin(t, readyA), "--task-handler", handler, "--task-min-polo", "0", "--json")
	readyW := w.ready(t)

	var before localapi.PoloInfo
	eventually(t, "A sees W", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeA, "polo", readyW.Address, "--json")
		if r.code != 0 {
			return false, r.stderr
		}
		decodeOK(t, r.stdout, &before)
		return true, ""
	})
	if before.Score != 0 || before.Attestations != 0 {
		t.Errorf("a newcomer's Polo = %+v, want 0 with no attestations", before)
	}

	var done localapi.TaskInfo
	r := pilotRun(t, bin, 90*time.Second, "--home", homeA, "task", "submit", readyW.Address, "--type", "answer", "--input", `{"q":"life"}`, "--wait", "--timeout", "1m", "--json")
	wantOK(t, r, &done)
	if done.State != "succeeded" || done.Role != "requester" || !done.Receipt {
		t.Fatalf("task = %+v, want succeeded with a receipt", done)
	}
	var result map[string]int
	if err := json.Unmarshal(done.Result, &result); err != nil || result["answer"] != 42 {
		t.Errorf("result %s, want the handler's {\"answer\":42}", done.Result)
	}

	var after localapi.PoloInfo
	eventually(t, "the attestation counts", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeA, "polo", readyW.Address, "--json")
		if r.code != 0 {
			return false, r.stderr
		}
		decodeOK(t, r.stdout, &after)
		return after.Attestations == 1 && after.Score > 0, r.stdout
	})
	if after.Successes != 1 || after.Derivation == "" || after.LastSeen == nil {
		t.Errorf("polo after one task = %+v", after)
	}
	var stats localapi.PoloStats
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeW, "polo", "stats", "--json"), &stats)
	eventually(t, "W stores the attestation about itself", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeW, "polo", "stats", "--json")
		decodeOK(t, r.stdout, &stats)
		return stats.Stored == 1, r.stdout
	})
	var list localapi.TaskList
	wantOK(t, pilotRun(t, bin, 30*time.Second, "--home", homeW, "task", "list", "--json"), &list)
	if len(list.Tasks) != 1 || list.Tasks[0].Role != "worker" || list.Tasks[0].State != "succeeded" {
		t.Errorf("W's task list = %+v", list.Tasks)
	}
	// By default (no --task-min-polo) a daemon takes tasks only from
	// peers it trusts.
	r = pilotRun(t, bin, 60*time.Second, "--home", homeW, "task", "submit", readyA.Address, "--type", "answer", "--json")
	wantError(t, r, localapi.CodeTrustRequired, 1)
	w.stop(t)
	a.stop(t)
}
