package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// TestTaskAndPoloDaemons is issue 6's acceptance 1: a worker daemon W
// runs tasks with --task-handler and admits anyone (--task-min-polo 0);
// the requester A submits with --wait and gets the handler's result; W's
// Polo rises from 0 in A's view, and within 10 s in the view of C, which
// never dealt with W but trusts A, by gossip.
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
	homeA, homeW, homeC := shortHome(t), shortHome(t), shortHome(t)
	a := startDaemon(t, bin, "A", homeA, "--public", "--json")
	readyA := a.ready(t)
	w := startDaemon(t, bin, "W", homeW, "--public", "--bootstrap", tcpJoin(t, readyA), "--task-handler", handler, "--task-min-polo", "0", "--json")
	readyW := w.ready(t)
	c := startDaemon(t, bin, "C", homeC, "--public", "--bootstrap", tcpJoin(t, readyA), "--json")
	readyC := c.ready(t)
	// C trusts A (and A, C): C's view of Polo is anchored on A too.
	eventually(t, "C asks A for trust", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeC, "trust", "request", readyA.Address, "--message", "polo test", "--json")
		return r.code == 0, r.stderr
	})
	eventually(t, "A approves C", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeA, "trust", "approve", readyC.Address, "--json")
		return r.code == 0, r.stderr
	})
	var cBefore localapi.PoloInfo
	eventually(t, "C sees W", 30*time.Second, 250*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeC, "polo", readyW.Address, "--json")
		if r.code != 0 {
			return false, r.stderr
		}
		decodeOK(t, r.stdout, &cBefore)
		return true, ""
	})
	if cBefore.Score != 0 {
		t.Errorf("C's view of W before any task: %+v, want 0", cBefore)
	}

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
	finished := time.Now()
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
	var inC localapi.PoloInfo
	eventually(t, "C sees W's attestation and a higher score", 10*time.Second, 100*time.Millisecond, func() (bool, string) {
		r := pilotRun(t, bin, 30*time.Second, "--home", homeC, "polo", readyW.Address, "--json")
		if r.code != 0 {
			return false, r.stderr
		}
		decodeOK(t, r.stdout, &inC)
		return inC.Attestations == 1 && inC.Score > cBefore.Score, r.stdout
	})
	t.Logf("C saw W's attestation %s after the task ended; W's Polo in C's view %d -> %d (in A's %d): %s",
		time.Since(finished).Round(time.Millisecond), cBefore.Score, inC.Score, after.Score, inC.Derivation)
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
	c.stop(t)
	w.stop(t)
	a.stop(t)
}
