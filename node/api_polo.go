package node

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/pilot-agents/pilot/node/localapi"
	"github.com/pilot-agents/pilot/node/task"
)

// defaultTaskDeadline is a task's deadline when the request gives none.
const defaultTaskDeadline = 5 * time.Minute

func (b apiBackend) TaskSubmit(ctx context.Context, req localapi.TaskSubmitRequest) (localapi.TaskInfo, error) {
	if err := task.CheckType(req.Type); err != nil {
		return localapi.TaskInfo{}, localapi.Errorf(localapi.CodeInvalidArgument, "a type is 1-64 characters a-z 0-9 . _ -", "%v", err)
	}
	a, err := b.target(ctx, req.To)
	if err != nil {
		return localapi.TaskInfo{}, err
	}
	timeout := time.Duration(req.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = defaultTaskDeadline
	}
	input := req.Input
	if len(input) == 0 {
		input = []byte("null")
	}
	t, err := b.n.SubmitTask(ctx, a, req.Type, input, timeout, req.Wait)
	if err != nil {
		return localapi.TaskInfo{}, taskError(err)
	}
	return taskInfo(t), nil
}

func (b apiBackend) TaskList(ctx context.Context) (localapi.TaskList, error) {
	if err := b.n.running(); err != nil {
		return localapi.TaskList{}, apiError(err)
	}
	ts, err := b.n.tasks.List(task.ListFilter{})
	if err != nil {
		return localapi.TaskList{}, taskError(err)
	}
	out := localapi.TaskList{Tasks: make([]localapi.TaskInfo, 0, len(ts))}
	for _, t := range ts {
		out.Tasks = append(out.Tasks, taskInfo(t))
	}
	return out, nil
}

func (b apiBackend) TaskGet(ctx context.Context, id string) (localapi.TaskInfo, error) {
	if err := b.n.running(); err != nil {
		return localapi.TaskInfo{}, apiError(err)
	}
	t, err := b.n.tasks.Get(id)
	if err != nil {
		return localapi.TaskInfo{}, taskError(err)
	}
	return taskInfo(t), nil
}

func (b apiBackend) TaskAction(ctx context.Context, req localapi.TaskActionRequest) (localapi.TaskInfo, error) {
	if err := b.n.running(); err != nil {
		return localapi.TaskInfo{}, apiError(err)
	}
	s := b.n.tasks
	var t task.Task
	var err error
	switch req.Action {
	case "accept":
		t, err = s.Accept(ctx, req.ID)
	case "decline":
		t, err = s.Decline(ctx, req.ID, req.Reason)
	case "cancel":
		t, err = s.Cancel(ctx, req.ID)
	case "complete":
		t, err = s.Complete(ctx, req.ID, req.Result, req.Error)
	default:
		return localapi.TaskInfo{}, localapi.Errorf(localapi.CodeInvalidArgument, "one of accept, decline, cancel, complete", "unknown task action %q", req.Action)
	}
	if err != nil {
		return localapi.TaskInfo{}, taskError(err)
	}
	return taskInfo(t), nil
}

func (b apiBackend) Polo(ctx context.Context, address string) (localapi.PoloInfo, error) {
	n := b.n
	if err := n.running(); err != nil {
		return localapi.PoloInfo{}, apiError(err)
	}
	a, id := n.addr, n.id
	if address != "" {
		var err error
		if a, err = b.target(ctx, address); err != nil {
			return localapi.PoloInfo{}, err
		}
		if id, err = n.peerOf(ctx, a); err != nil {
			return localapi.PoloInfo{}, apiError(err)
		}
	}
	d := n.PoloScore(id)
	out := localapi.PoloInfo{
		Address: a.String(), PeerID: id.String(), Score: d.Polo, Trust: d.Trust,
		Attestations: d.Attestations, Successes: d.Successes, Failures: d.Failures, Issuers: d.Issuers,
		Derivation: d.Derivation, Iterations: d.Iterations, ComputedAt: d.ComputedAt,
	}
	if !d.LastSeen.IsZero() {
		last := d.LastSeen
		out.LastSeen = &last
	}
	if id == n.id {
		out.Derivation = "your own score is not meaningful in your own view (it holds the weight you give yourself); ask another node: " + out.Derivation
	}
	return out, nil
}

func (b apiBackend) PoloStats(ctx context.Context) (localapi.PoloStats, error) {
	n := b.n
	if err := n.running(); err != nil {
		return localapi.PoloStats{}, apiError(err)
	}
	out := localapi.PoloStats{Stored: n.polo.store.Count(), Rejected: map[string]uint64{}, Gossip: map[string]uint64{}, Sync: map[string]uint64{}, Tasks: n.tasks.Stats()}
	for reason, c := range n.polo.store.Stats() {
		if reason == "accepted" {
			out.Accepted = c
			continue
		}
		out.Rejected[string(reason)] = c
	}
	g := n.polo.topic.Stats()
	out.Gossip["accepted"], out.Gossip["ignored"], out.Gossip["rejected"] = g.Accepted, g.Ignored, g.Rejected
	out.Gossip["too_large"], out.Gossip["published"] = g.TooLarge, g.Published
	s := n.polo.sync.Stats()
	out.Sync["initiated"], out.Sync["served"], out.Sync["refused"], out.Sync["failed"] = s.Initiated, s.Served, s.Refused, s.Failed
	out.Sync["items_received"], out.Sync["items_sent"], out.Sync["rejected"] = s.ItemsReceived, s.ItemsSent, s.Rejected
	return out, nil
}

func taskInfo(t task.Task) localapi.TaskInfo {
	other := t.Peer()
	h := t.Hash()
	info := localapi.TaskInfo{
		ID: t.ID, Role: string(t.Role), State: string(t.State), Type: t.Type,
		PeerID: other.String(), Input: t.Input, Result: t.Result, Error: t.Error,
		Hash: hex.EncodeToString(h[:]), SubmittedAt: t.SubmittedAt, UpdatedAt: t.UpdatedAt, Deadline: t.Deadline,
		Receipt: len(t.Receipt) > 0,
	}
	if a := addrOfPeer(other); !a.IsZero() {
		info.Peer = a.String()
	}
	return info
}

// taskError maps task errors to API errors with codes and hints.
func taskError(err error) error {
	switch {
	case errors.Is(err, task.ErrNotFound):
		return localapi.Errorf(localapi.CodeNotFound, "see `pilot task list`", "%v", err)
	case errors.Is(err, task.ErrDeclined), errors.Is(err, task.ErrRejected):
		return localapi.Errorf(localapi.CodeTrustRequired, "ask the agent for trust (`pilot trust request`), or earn Polo with agents that take anyone's tasks", "%v", err)
	case errors.Is(err, task.ErrTooMany):
		return localapi.Errorf(localapi.CodeConnectionFailed, "the worker is busy; retry later", "%v", err)
	case errors.Is(err, task.ErrInvalid), errors.Is(err, task.ErrIllegalTransition), errors.Is(err, task.ErrWrongRole), errors.Is(err, task.ErrExpired):
		return localapi.Errorf(localapi.CodeInvalidArgument, "see `pilot task result <id>` for the task's state", "%v", err)
	case errors.Is(err, task.ErrClosed):
		return localapi.Errorf(localapi.CodeNotRunning, "start the daemon with `pilot up`", "%v", err)
	}
	return apiError(err)
}
