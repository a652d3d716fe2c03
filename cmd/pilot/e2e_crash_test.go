package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
)

// TestCrashKill9 kill -9s a real daemon (the victim, V) in the middle of a
// burst of acknowledged writes, restarts it on the same home, and checks
// that the store opens cleanly and that everything acknowledged is there
// (docs/testing.md, "Crash safety"). Per round:
//   - inbox: an anchor A sends messages to V; a message is acknowledged
//     when A's send returned ok (V answers after its commit);
//   - trust: V requests and revokes trust with two passive peers P1, P2; a
//     state is acknowledged when V's local API returned it;
//   - attestations: V submits tasks to A (its worker, running `cat`); an
//     attestation is acknowledged when V's polo stats count it, and a
//     finished task with a receipt must have its attestation.
//
// The moment of the kill is the K-th acknowledgement of the burst, K drawn
// from a seeded RNG, so writes of every kind are in flight when it lands.
func TestCrashKill9(t *testing.T) {
	if testing.Short() {
		if os.Getenv("CI") == "true" {
			t.Fatal("the crash test must run in CI: do not pass -short")
		}
		t.Skip("kills and restarts daemons; skipped with -short")
	}
	rounds := int(crashEnvInt(t, crashRoundsEnv, 3, crashMaxRounds))
	seed := crashEnvInt(t, crashSeedEnv, 1, 1<<63)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t.Logf("crash test: %d rounds, seed %d (%s, %s)", rounds, seed, crashRoundsEnv, crashSeedEnv)

	bin := pilotBinary(t)
	homeA, homeV := t.TempDir(), t.TempDir()
	a := startDaemon(t, bin, "A", homeA, "--anchor", "--json", "--task-handler", "cat")
	readyA := a.ready(t)
	join := tcpJoin(t, readyA)
	var passive []upReady
	for _, name := range []string{"P1", "P2"} {
		p := startDaemon(t, bin, name, t.TempDir(), "--public", "--bootstrap", join, "--json")
		passive = append(passive, p.ready(t))
	}
	vArgs := []string{"--public", "--bootstrap", join, "--json"}
	v, vLog := startVictim(t, bin, "V", homeV, vArgs...)
	readyV := v.ready(t)
	run := func(home string, args ...string) result {
		return pilotRun(t, bin, 60*time.Second, append([]string{"--home", home}, args...)...)
	}

	// A and V trust each other: A asks, V approves (acknowledged by V).
	eventually(t, "A asks V for trust", 60*time.Second, 200*time.Millisecond, func() (bool, string) {
		r := run(homeA, "trust", "request", readyV.Address, "--json")
		return r.code == 0, r.stderr
	})
	eventually(t, "V sees A's request", 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		var l localapi.TrustList
		wantOK(t, run(homeV, "trust", "pending", "--json"), &l)
		return l.Count == 1 && l.Records[0].PeerID == readyA.PeerID, fmt.Sprintf("pending: %+v", l.Records)
	})
	wantOK(t, run(homeV, "trust", "approve", readyA.Address, "--json"), &localapi.TrustRecord{})
	eventually(t, "A trusts V", 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		var l localapi.TrustList
		wantOK(t, run(homeA, "trust", "list", "--json"), &l)
		return l.Count == 1 && l.Records[0].State == "trusted", fmt.Sprintf("%+v", l.Records)
	})

	st := &crashState{
		victim:   readyV,
		worker:   readyA,
		passive:  passive,
		acked:    map[string]bool{},
		trustNow: map[string]string{},
		taskDone: map[string]bool{},
	}
	st.trustNow[readyA.PeerID] = "trusted"
	budget := crashAttestationBudget / rounds
	for round := 1; round <= rounds; round++ {
		sendA := localapi.NewClient(filepath.Join(homeA, socketName))
		sendV := localapi.NewClient(filepath.Join(homeV, socketName))
		st.warmUp(t, sendA, sendV)
		// The kill follows the k-th acknowledgement, and one of the kind
		// whose turn it is, so that every kind has writes just
		// acknowledged when it lands.
		k := 20 + rng.IntN(150)
		trigger := crashKinds[(round+int(seed))%len(crashKinds)]
		st.burst(t, round, k, trigger, max(budget, 0), sendA, sendV, v)
		sendA.Close()
		sendV.Close()

		v, vLog = startVictim(t, bin, fmt.Sprintf("V-restart-%d", round), homeV, vArgs...)
		if r := v.ready(t); r.PeerID != readyV.PeerID {
			t.Fatalf("V came back as %s, was %s", r.PeerID, readyV.PeerID)
		}
		checkStoreLog(t, v.name, vLog)
		st.verify(t, round, run, homeV)
	}
	v.stop(t)
	checkStoreLog(t, v.name, vLog)
}

// The kinds of acknowledged writes.
const (
	kindInbox = "inbox message"
	kindTrust = "trust change"
	kindTask  = "finished task"
)

var crashKinds = []string{kindInbox, kindTrust, kindTask}

// crashState is what the test knows was acknowledged, across rounds.
type crashState struct {
	victim, worker upReady
	passive        []upReady

	mu       sync.Mutex
	acked    map[string]bool   // inbox IDs of acknowledged messages
	trustNow map[string]string // peer ID -> state last acknowledged by V
	inflight map[string]string // peer ID -> state of a trust change cut by the kill
	taskDone map[string]bool   // IDs of tasks V saw succeed
	stored   int               // most attestations V's polo stats showed
	trustOps int               // acknowledged trust changes, all rounds

	// per round, for the report
	roundInbox, roundTrust, roundTasks int
}

// warmUp waits until A reaches the (re)started V again: the first message
// that gets through counts as acknowledged like any other.
func (s *crashState) warmUp(t *testing.T, sendA, sendV *localapi.Client) {
	t.Helper()
	eventually(t, "A sends to V", 60*time.Second, 200*time.Millisecond, func() (bool, string) {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		res, err := sendA.Send(ctx, localapi.SendRequest{Address: s.victim.Address, Kind: "text", Text: "warm-up"})
		if err != nil {
			return false, err.Error()
		}
		s.mu.Lock()
		s.acked[res.ID] = true
		s.mu.Unlock()
		return true, ""
	})
	for _, p := range s.passive {
		eventually(t, "V resolves "+p.Address, 60*time.Second, 200*time.Millisecond, func() (bool, string) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err := sendV.Resolve(ctx, p.Address)
			return err == nil, fmt.Sprint(err)
		})
	}
}

// burst runs the writers against V until k writes were acknowledged, then
// kills V with SIGKILL while the writers are still going.
func (s *crashState) burst(t *testing.T, round, k int, trigger string, tasks int, sendA, sendV *localapi.Client, v *daemon) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var total atomic.Int64
	killNow := make(chan struct{})
	var once sync.Once
	killing := func() bool {
		select {
		case <-killNow:
			return true
		default:
			return false
		}
	}
	var anyKind atomic.Bool // the trigger kind will not come: any kind kills
	anyKind.Store(tasks == 0 && trigger == kindTask)
	ack := func(kind string) {
		if total.Add(1) >= int64(k) && (kind == trigger || anyKind.Load()) {
			once.Do(func() { close(killNow) })
		}
	}
	s.mu.Lock()
	s.roundInbox, s.roundTrust, s.roundTasks = 0, 0, 0
	s.inflight = map[string]string{}
	s.mu.Unlock()

	var wg sync.WaitGroup
	for w := range 3 { // inbox: A sends to V
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				res, err := sendA.Send(ctx, localapi.SendRequest{Address: s.victim.Address, Kind: "text", Text: fmt.Sprintf("round %d writer %d message %d", round, w, i)})
				if err != nil {
					if !killing() {
						t.Errorf("A sends to V: %v", err)
						return
					}
					continue
				}
				s.mu.Lock()
				s.acked[res.ID] = true
				s.roundInbox++
				s.mu.Unlock()
				ack(kindInbox)
			}
		})
	}
	wg.Go(func() { // trust: V requests and revokes, alternately, with P1 and P2
		for i := 0; ctx.Err() == nil; i++ {
			p := s.passive[i%len(s.passive)]
			s.mu.Lock()
			action, want := "request", "outgoing_pending"
			if s.trustNow[p.PeerID] == "outgoing_pending" {
				action, want = "revoke", "revoked"
			}
			s.inflight[p.PeerID] = want
			s.mu.Unlock()
			rec, err := sendV.Trust(ctx, localapi.TrustRequest{Action: action, Address: p.Address, Message: fmt.Sprintf("round %d change %d", round, i)})
			if err != nil {
				if !killing() {
					t.Errorf("V %s %s: %v", action, p.Address, err)
				}
				return // the in-flight change may or may not have landed
			}
			if rec.State != want {
				t.Errorf("V %s %s answered state %q, want %q", action, p.Address, rec.State, want)
			}
			s.mu.Lock()
			delete(s.inflight, p.PeerID)
			s.trustNow[p.PeerID] = rec.State
			s.trustOps++
			s.roundTrust++
			s.mu.Unlock()
			ack(kindTrust)
		}
	})
	wg.Go(func() { // tasks: V asks A to run tasks, within the attestation budget
		for i := 0; i < tasks && ctx.Err() == nil; i++ {
			input, _ := json.Marshal(map[string]any{"round": round, "task": i})
			ti, err := sendV.TaskSubmit(ctx, localapi.TaskSubmitRequest{To: s.worker.Address, Type: "crash", Input: input, Wait: true, TimeoutMs: 60_000})
			if err != nil {
				if !killing() {
					t.Errorf("V submits a task to A: %v", err)
				}
				return
			}
			if ti.State != "succeeded" || !ti.Receipt {
				t.Errorf("task %s ended %s (receipt %v, error %q)", ti.ID, ti.State, ti.Receipt, ti.Error)
				continue
			}
			s.mu.Lock()
			s.taskDone[ti.ID] = true
			s.roundTasks++
			s.mu.Unlock()
			ack(kindTask)
		}
		anyKind.Store(true) // budget spent
	})
	wg.Go(func() { // attestations: what V's store counts is acknowledged
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for ctx.Err() == nil {
			if ps, err := sendV.PoloStats(ctx); err == nil {
				s.mu.Lock()
				s.stored = max(s.stored, ps.Stored)
				s.mu.Unlock()
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
			}
		}
	})

	select {
	case <-killNow:
	case <-v.done:
		cancel()
		wg.Wait()
		t.Fatalf("round %d: V exited by itself (%v) after %d acknowledgements", round, v.waitErr, total.Load())
	case <-time.After(120 * time.Second):
		cancel()
		wg.Wait()
		t.Fatalf("round %d: only %d of %d acknowledgements within 120s", round, total.Load(), k)
	}
	v.kill9(t)
	cancel()
	wg.Wait()
	s.mu.Lock()
	t.Logf("round %d: killed V just after an acknowledged %s, %d acknowledged writes in the burst (K=%d): %d messages, %d trust changes, %d tasks; trust changes cut by the kill: %v",
		round, trigger, total.Load(), k, s.roundInbox, s.roundTrust, s.roundTasks, s.inflight)
	s.mu.Unlock()
}

// verify checks the restarted V through the CLI: every acknowledged
// message, trust state, task and attestation is there.
func (s *crashState) verify(t *testing.T, round int, run func(string, ...string) result, homeV string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()

	var inbox localapi.InboxList
	wantOK(t, run(homeV, "inbox", "--json"), &inbox)
	have := map[string]bool{}
	for _, m := range inbox.Messages {
		have[m.ID] = true
	}
	foundMsgs := 0
	for id := range s.acked {
		if have[id] {
			foundMsgs++
		} else {
			t.Errorf("round %d: acknowledged message %s is not in V's inbox", round, id)
		}
	}

	var trust localapi.TrustList
	wantOK(t, run(homeV, "trust", "list", "--json"), &trust)
	state := map[string]string{}
	for _, r := range trust.Records {
		state[r.PeerID] = r.State
	}
	foundTrust := 0
	for p, want := range s.trustNow {
		got := state[p]
		switch {
		case got == want:
			foundTrust++
		case got == s.inflight[p]:
			foundTrust++
			t.Logf("round %d: the trust change with %s cut by the kill had landed (%s)", round, p, got)
		default:
			t.Errorf("round %d: V's trust with %s is %q, acknowledged %q", round, p, got, want)
		}
		s.trustNow[p] = got
	}

	var tasks localapi.TaskList
	wantOK(t, run(homeV, "task", "list", "--json"), &tasks)
	foundTasks := 0
	byID := map[string]localapi.TaskInfo{}
	for _, ti := range tasks.Tasks {
		byID[ti.ID] = ti
	}
	for id := range s.taskDone {
		if ti, ok := byID[id]; ok && ti.State == "succeeded" && ti.Receipt {
			foundTasks++
		} else {
			t.Errorf("round %d: task %s succeeded before the kill; now %+v", round, id, ti)
		}
	}

	// Tasks cut by the kill may still finish (A redelivers its update):
	// wait until every finished task with a receipt has its attestation.
	var ps localapi.PoloStats
	eventually(t, "V attests every finished task", 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		wantOK(t, run(homeV, "polo", "stats", "--json"), &ps)
		wantOK(t, run(homeV, "task", "list", "--json"), &tasks)
		receipts := 0
		for _, ti := range tasks.Tasks {
			if ti.Role == "requester" && ti.Receipt && (ti.State == "succeeded" || ti.State == "failed") {
				receipts++
			}
		}
		return ps.Stored == receipts, fmt.Sprintf("%d attestations stored, %d finished tasks with a receipt", ps.Stored, receipts)
	})
	if ps.Stored < s.stored {
		t.Errorf("round %d: V stores %d attestations, it counted %d before the kill", round, ps.Stored, s.stored)
	}
	t.Logf("round %d after restart: messages %d/%d acknowledged found; trust states %d/%d as acknowledged; tasks %d/%d found succeeded; attestations %d stored, %d acknowledged",
		round, foundMsgs, len(s.acked), foundTrust, len(s.trustNow), foundTasks, len(s.taskDone), ps.Stored, s.stored)
	s.stored = ps.Stored
	if t.Failed() {
		t.FailNow()
	}
}
