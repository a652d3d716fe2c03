package task

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pilot-agents/pilot/node/logkey"
)

// Submit sends a new task of type typ with input to worker and returns it
// once the worker admitted it (state submitted). The task must finish
// within timeout (DefaultTimeout if 0, at most MaxTimeout), else it
// expires on both sides.
//
// Errors: ErrInvalid (wrapped) for a bad type, input, timeout or worker;
// a *RemoteError when the worker refuses it (errors.Is ErrDeclined for its
// gate, ErrTooMany when it has too many pending tasks); the ports errors
// (ports.ErrTrustRequired, ...) or ctx's error when it cannot be
// delivered. A refused or undelivered task is kept as declined or
// cancelled, with the reason in Error, and returned with the error.
func (s *Service) Submit(ctx context.Context, worker peer.ID, typ string, input json.RawMessage, timeout time.Duration) (Task, error) {
	if !s.enter() {
		return Task{}, fmt.Errorf("task: submit: %w", ErrClosed)
	}
	defer s.leave()
	fail := func(err error) (Task, error) {
		return Task{}, fmt.Errorf("task: submit %q to %s: %w", typ, worker, err)
	}
	if err := checkPeers(s.cfg.Self, worker); err != nil {
		return fail(fmt.Errorf("%w: %w", err, ErrInvalid))
	}
	if err := CheckType(typ); err != nil {
		return fail(fmt.Errorf("%w: %w", err, ErrInvalid))
	}
	if err := checkInput(input); err != nil {
		return fail(fmt.Errorf("%w: %w", err, ErrInvalid))
	}
	switch {
	case timeout < 0 || timeout > MaxTimeout:
		return fail(fmt.Errorf("timeout %s out of range (0..%s): %w", timeout, MaxTimeout, ErrInvalid))
	case timeout == 0:
		timeout = DefaultTimeout
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.ctx, cancel)() // Close does not wait for a slow worker
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails
	now := truncMs(s.cfg.Now())
	t := Task{ID: hex.EncodeToString(raw[:]), Requester: s.cfg.Self, Worker: worker, Type: typ,
		Input: bytes.Clone(input), State: StateSubmitted, Role: RoleRequester, SubmittedAt: now, UpdatedAt: now,
		Deadline: truncMs(now.Add(max(timeout, time.Millisecond)))}
	if err := s.create(entry{Task: t}); err != nil {
		return fail(err)
	}
	resp, opened, err := s.exchange(ctx, worker, Frame{Type: FrameSubmit, Task: t})
	if err == nil {
		err = remoteErr(resp)
	}
	if err == nil {
		return s.Get(t.ID)
	}
	to, reason := StateCancelled, "not delivered: "+err.Error()
	switch resp.Status {
	case StatusOK: // no answer
	case StatusDeclined:
		to, reason = StateDeclined, resp.Reason
	default:
		reason = fmt.Sprintf("refused by the worker (%s): %s", resp.Status, resp.Reason)
	}
	// A stream that broke after it opened may have delivered the task:
	// the worker is told to drop it (retried like any CANCEL).
	uncertain := opened && resp.Status == StatusOK
	_, terr := s.transition(t.ID, RoleRequester, to, func(e *entry) {
		e.Error = sanitize(reason, MaxErrorLen)
		if uncertain {
			markNotify(e)
		}
	})
	if terr != nil {
		s.log.Warn("task: record a failed submission", logkey.Task, t.ID, logkey.Err, terr)
	}
	got, gerr := s.Get(t.ID)
	if gerr != nil {
		got = t
	}
	return got, fmt.Errorf("task: submit %q to %s: %w", typ, worker, err)
}

// Wait blocks until the task id is terminal and returns it. It is woken by
// the task's changes, not by polling. Errors: ErrNotFound, ctx's error, or
// ErrClosed when the service closes first.
func (s *Service) Wait(ctx context.Context, id string) (Task, error) {
	for {
		changed, done := s.watch(id)
		t, err := s.Get(id)
		if err != nil || t.State.Terminal() {
			done()
			return t, err
		}
		select {
		case <-changed:
			done()
		case <-ctx.Done():
			done()
			return t, fmt.Errorf("task: wait for %s: %w", id, ctx.Err())
		case <-s.done:
			done()
			return t, fmt.Errorf("task: wait for %s: %w", id, ErrClosed)
		}
	}
}

// Accept takes on the submitted task id as its worker: it becomes
// accepted, then executing, and the requester is told. Finish it with
// Complete.
func (s *Service) Accept(ctx context.Context, id string) (Task, error) {
	if !s.enter() {
		return Task{}, fmt.Errorf("task: accept %s: %w", id, ErrClosed)
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return Task{}, fmt.Errorf("task: accept %s: %w", id, err)
	}
	if err := s.accept(id); err != nil {
		return Task{}, fmt.Errorf("task: accept %s: %w", id, err)
	}
	return s.Get(id)
}

// accept moves a worker's task from submitted through accepted to
// executing.
func (s *Service) accept(id string) error {
	if _, err := s.transition(id, RoleWorker, StateAccepted, markNotify); err != nil {
		return err
	}
	_, err := s.transition(id, RoleWorker, StateExecuting, func(e *entry) {
		e.startedMs = ms(s.cfg.Now())
		markNotify(e)
	})
	return err
}

// Decline refuses the submitted task id as its worker, telling the
// requester reason.
func (s *Service) Decline(ctx context.Context, id, reason string) (Task, error) {
	if !s.enter() {
		return Task{}, fmt.Errorf("task: decline %s: %w", id, ErrClosed)
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return Task{}, fmt.Errorf("task: decline %s: %w", id, err)
	}
	if reason == "" {
		reason = "declined by the worker"
	}
	_, err := s.transition(id, RoleWorker, StateDeclined, func(e *entry) {
		e.Error = sanitize(reason, MaxErrorLen)
		markNotify(e)
	})
	if err != nil {
		return Task{}, fmt.Errorf("task: decline %s: %w", id, err)
	}
	return s.Get(id)
}

// Complete finishes the executing task id as its worker: succeeded with
// result if errText is "", else failed with errText (made printable and
// cut to MaxErrorLen). result must be empty or valid JSON of at most
// MaxResult bytes. The receipt from Config.SignReceipt goes with the
// UPDATE that tells the requester.
func (s *Service) Complete(ctx context.Context, id string, result json.RawMessage, errText string) (Task, error) {
	if !s.enter() {
		return Task{}, fmt.Errorf("task: complete %s: %w", id, ErrClosed)
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return Task{}, fmt.Errorf("task: complete %s: %w", id, err)
	}
	if err := s.finish(id, result, errText, -1); err != nil {
		return Task{}, fmt.Errorf("task: complete %s: %w", id, err)
	}
	return s.Get(id)
}

// finish moves an executing worker's task to succeeded or failed with its
// receipt. cost < 0 measures it from the start of execution.
func (s *Service) finish(id string, result []byte, errText string, cost time.Duration) error {
	if err := checkResult(result); err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	to := StateSucceeded
	if errText != "" {
		to, errText = StateFailed, sanitize(errText, MaxErrorLen)
	}
	// One finish at a time per task, so that SignReceipt is called once.
	s.mu.Lock()
	busy := s.finishing[id]
	s.finishing[id] = true
	s.mu.Unlock()
	if busy {
		return fmt.Errorf("already being completed: %w", ErrIllegalTransition)
	}
	defer func() {
		s.mu.Lock()
		delete(s.finishing, id)
		s.mu.Unlock()
	}()
	e, err := s.load(id, true)
	switch {
	case err != nil:
		return err
	case e.Role != RoleWorker:
		return fmt.Errorf("the local node is this task's %s: %w", e.Role, ErrWrongRole)
	case e.State != StateExecuting:
		return fmt.Errorf("%s → %s: %w", e.State, to, ErrIllegalTransition)
	}
	if cost < 0 {
		cost = max(0, s.cfg.Now().Sub(fromMs(e.startedMs)))
	}
	result = bytes.Clone(result)
	var receipt []byte
	if s.cfg.SignReceipt != nil {
		t := e.Task
		t.State, t.Result, t.Error = to, result, errText
		receipt, err = s.cfg.SignReceipt(t, ResultHash(result, errText), uint64(cost.Milliseconds()))
		if err == nil && len(receipt) > MaxReceipt {
			err = fmt.Errorf("receipt of %d bytes (max %d)", len(receipt), MaxReceipt)
		}
		if err != nil {
			s.stat(StatReceiptError)
			s.log.Error("task: sign receipt; finishing without one", logkey.Task, id, logkey.Err, err)
			receipt = nil
		}
	}
	_, err = s.transition(id, RoleWorker, to, func(e *entry) {
		e.Result, e.Error, e.Receipt = result, errText, receipt
		markNotify(e)
	})
	return err
}

// Cancel stops the task id. As its requester, the task is cancelled here
// and a CANCEL goes to the worker (retried until delivered); as its
// worker, a running Handler is killed and the requester is told.
func (s *Service) Cancel(ctx context.Context, id string) (Task, error) {
	if !s.enter() {
		return Task{}, fmt.Errorf("task: cancel %s: %w", id, ErrClosed)
	}
	defer s.leave()
	if err := ctx.Err(); err != nil {
		return Task{}, fmt.Errorf("task: cancel %s: %w", id, err)
	}
	_, err := s.transition(id, "", StateCancelled, func(e *entry) {
		e.Error = "cancelled by the " + string(e.Role)
		markNotify(e)
	})
	if err != nil {
		return Task{}, fmt.Errorf("task: cancel %s: %w", id, err)
	}
	return s.Get(id)
}

// Get returns the task id with its input and result. An unknown or
// malformed id is ErrNotFound.
func (s *Service) Get(id string) (Task, error) {
	e, err := s.load(id, true)
	if err != nil {
		return Task{}, fmt.Errorf("task: get %s: %w", id, err)
	}
	return e.Task, nil
}

// ListFilter selects tasks for List. Zero fields match everything.
type ListFilter struct {
	Role   Role    // only tasks in this role
	State  State   // only tasks in this state
	Peer   peer.ID // only tasks with this other party
	Active bool    // only tasks not yet terminal
	Full   bool    // include Input and Result (List omits them by default)
	Limit  int     // at most this many, newest first
}

func (f ListFilter) match(e entry) bool {
	return (f.Role == "" || e.Role == f.Role) && (f.State == "" || e.State == f.State) &&
		(f.Peer == "" || e.Peer() == f.Peer) && (!f.Active || !e.State.Terminal())
}

// List returns the tasks matching filter, newest submission first.
// Unreadable records are skipped and logged.
func (s *Service) List(filter ListFilter) ([]Task, error) {
	if filter.Limit < 0 {
		return nil, fmt.Errorf("task: list: negative limit: %w", ErrInvalid)
	}
	var out []entry
	err := s.records(func(e entry) bool {
		if filter.match(e) {
			out = append(out, e)
		}
		return true
	}, func(id string, err error) {
		s.log.Warn("task: skipping unreadable record", logkey.Key, id, logkey.Err, err)
	})
	if err != nil {
		return nil, fmt.Errorf("task: list: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SubmittedAt.Equal(out[j].SubmittedAt) {
			return out[i].SubmittedAt.After(out[j].SubmittedAt)
		}
		return out[i].ID < out[j].ID
	})
	if filter.Limit > 0 && len(out) > filter.Limit {
		out = out[:filter.Limit]
	}
	tasks := make([]Task, 0, len(out))
	for _, e := range out {
		if filter.Full {
			full, err := s.load(e.ID, true)
			if errors.Is(err, ErrNotFound) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("task: list: %w", err)
			}
			e = full
		}
		tasks = append(tasks, e.Task)
	}
	return tasks, nil
}
