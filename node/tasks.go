package node

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/addressing"
	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/node/task"
	"github.com/pilot-agents/pilot/reputation"
)

// Tasks (port 1003, node/task) tie the session layer to Polo: when a task
// ends, the worker signs a receipt, the requester signs an attestation
// embedding it, stores it and gossips it (polo.go).

// TaskGateTrustedOnly is Config.TaskMinPolo's default: only trusted peers
// may submit tasks.
const TaskGateTrustedOnly = -1

// startTasks starts the task service with the node's gate, receipt signer
// and attestation issuer.
func (n *Node) startTasks(ctx context.Context) error {
	cfg := task.Config{
		DB:          n.db,
		Mux:         n.ports,
		Self:        n.id,
		Gate:        n.taskGate,
		SignReceipt: n.signReceipt,
		OnFinished:  n.taskFinished,
		Func:        n.cfg.TaskFunc,
		Logger:      taskLogger(),
	}
	if len(n.cfg.TaskHandler) > 0 {
		cfg.Handler = &task.ExecHandler{Command: n.cfg.TaskHandler, Timeout: n.cfg.TaskHandlerTimeout}
	}
	s, err := task.New(cfg)
	if err != nil {
		return err
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	n.tasks = s
	n.metrics.tasks.Store(s)
	n.attestOwed() // a crash may have come between a task's end and its attestation
	return nil
}

// taskGate admits a task from p when p is trusted, or - if the node sets
// a minimum (TaskMinPolo ≥ 0) - when p's Polo in this node's view reaches
// it.
func (n *Node) taskGate(p peer.ID) (bool, string) {
	if n.trusted(p) {
		return true, ""
	}
	min := n.cfg.TaskMinPolo
	if min < 0 {
		return false, "this agent takes tasks only from peers it trusts"
	}
	if got := n.PoloScore(p).Polo; got < min {
		return false, fmt.Sprintf("your Polo here is %d; this agent takes tasks from Polo %d up, or from peers it trusts", got, min)
	}
	return true, ""
}

// signReceipt is the worker's signed receipt of a finished task.
func (n *Node) signReceipt(t task.Task, resultHash [32]byte, costMs uint64) ([]byte, error) {
	outcome := reputation.Success
	if t.State != task.StateSucceeded {
		outcome = reputation.Failure
	}
	r, err := reputation.SignReceipt(n.priv, reputation.Receipt{
		Worker: n.id, Requester: t.Requester, TaskHash: t.Hash(), ResultHash: resultHash,
		Outcome: outcome, Cost: costMs, EndedAt: time.Now(),
	})
	if err != nil {
		return nil, err
	}
	return r.Marshal()
}

// taskFinished runs on the requester when the worker's final update
// arrives: it attests the outcome. Only a receipt that names this task
// (its hash, this requester, that worker) is attested.
func (n *Node) taskFinished(t task.Task) {
	if t.Role != task.RoleRequester || len(t.Receipt) == 0 {
		return
	}
	r, err := reputation.UnmarshalReceipt(t.Receipt)
	if err != nil || r.TaskHash != t.Hash() || r.Worker != t.Worker || r.Requester != n.id {
		log.Warnw("task receipt does not match the task; no attestation", logkey.Task, t.ID, logkey.Err, err)
		return
	}
	if (r.Outcome == reputation.Success) != (t.State == task.StateSucceeded) {
		log.Warnw("task receipt's outcome differs from the task's; no attestation", logkey.Task, t.ID)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.issueAttestation(ctx, t.Receipt); err != nil {
		log.Warnw("attestation not issued", logkey.Task, t.ID, logkey.Err, err)
	}
}

// Tasks is the task service (nil before Start).
func (n *Node) Tasks() *task.Service { return n.tasks }

// SubmitTask resolves a (address) and submits a task to it; with wait it
// returns once the task has ended.
func (n *Node) SubmitTask(ctx context.Context, a addressing.Addr, typ string, input json.RawMessage, timeout time.Duration, wait bool) (task.Task, error) {
	if err := n.running(); err != nil {
		return task.Task{}, err
	}
	id, err := n.Connect(ctx, a)
	if err != nil {
		return task.Task{}, err
	}
	t, err := n.tasks.Submit(ctx, id, typ, input, timeout)
	if err != nil || !wait {
		return t, err
	}
	return n.tasks.Wait(ctx, t.ID)
}
