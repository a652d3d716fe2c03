package task

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/node/ports"
)

// serve accepts streams on l until it is closed.
func (s *Service) serve(l *ports.Listener) {
	defer s.wg.Done()
	for {
		c, err := l.AcceptConn()
		if err != nil {
			return
		}
		s.dispatch(c)
	}
}

// dispatch starts a handler for c, or refuses c when too many streams are
// open.
func (s *Service) dispatch(c *ports.Conn) {
	p := c.RemotePeer()
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		c.Reset()
		return
	case s.streams >= maxStreams || s.perPeer[p] >= maxStreamsPerPeer:
		s.mu.Unlock()
		s.stat(StatTooMany)
		// A fresh stream has its whole flow-control window: this small
		// write does not block; the deadline is a safety net.
		_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.Write(EncodeResponse(Response{Status: StatusTooMany, Reason: "too many streams in progress; retry later"}))
		c.Close()
		return
	}
	s.streams++
	s.perPeer[p]++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			s.streams--
			if s.perPeer[p]--; s.perPeer[p] <= 0 {
				delete(s.perPeer, p)
			}
			s.mu.Unlock()
		}()
		s.handle(c)
	}()
}

// handle reads one frame from c, applies it and answers.
func (s *Service) handle(c *ports.Conn) {
	stop := context.AfterFunc(s.ctx, func() { c.Reset() })
	defer stop()
	_ = c.SetDeadline(time.Now().Add(s.streamTimeout))
	from := c.RemotePeer()
	f, err := DecodeFrame(c)
	if err == nil {
		err = expectEnd(c)
	}
	var resp Response
	var then func()
	var fe *frameError
	switch {
	case err == nil:
		resp, then = s.apply(from, f)
	case errors.As(err, &fe):
		s.stat(StatBadFrame)
		resp = Response{Status: StatusBadFrame, Reason: fe.msg}
	default: // the stream broke or stalled: nobody to answer
		s.stat(StatAborted)
		s.log.Debug("task: inbound stream aborted", logkey.Peer, from, logkey.Err, err)
		c.Reset()
		return
	}
	if resp.Status != StatusOK {
		s.log.Debug("task: refused a frame", logkey.Peer, from, logkey.Kind, f.Type, logkey.Status, resp.Status, logkey.Reason, resp.Reason)
	}
	// Close, not Reset, after the answer: a reset would discard it.
	if _, err := c.Write(EncodeResponse(resp)); err != nil {
		c.Reset()
	} else {
		c.Close()
	}
	if then != nil {
		then()
	}
}

// expectEnd checks that the sender half-closed right after the frame.
func expectEnd(r io.Reader) error {
	var b [1]byte
	n, err := r.Read(b[:])
	for n == 0 && err == nil {
		n, err = r.Read(b[:])
	}
	switch {
	case n > 0:
		return badFrame("data after the frame")
	case errors.Is(err, io.EOF):
		return nil
	}
	return fmt.Errorf("wait for the end of the stream: %w", err)
}

// apply serves a decoded frame from p. then, if set, runs after the
// answer is sent.
func (s *Service) apply(p peer.ID, f Frame) (resp Response, then func()) {
	switch f.Type {
	case FrameSubmit:
		return s.onSubmit(p, f.Task)
	case FrameUpdate:
		return s.onUpdate(p, f.Task)
	}
	return s.onCancel(p, f.Task), nil
}

// refusal counts a refusal and builds its response.
func (s *Service) refusal(stat string, st Status, format string, a ...any) Response {
	s.stat(stat)
	return Response{Status: st, Reason: fmt.Sprintf(format, a...)}
}

// onSubmit admits a task from requester p.
func (s *Service) onSubmit(p peer.ID, t Task) (Response, func()) {
	now := s.cfg.Now()
	switch {
	case t.Requester != p:
		return s.refusal(StatBadFrame, StatusBadFrame, "the requester field is not the sender"), nil
	case t.Worker != s.cfg.Self:
		return s.refusal(StatBadFrame, StatusBadFrame, "the worker field is not this node"), nil
	case t.SubmittedAt.After(now.Add(s.maxSkew)):
		return s.refusal(StatBadFrame, StatusBadFrame, "submitted in the future (%s; now %s)",
			t.SubmittedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339)), nil
	case !now.Before(t.Deadline):
		return s.refusal(StatConflict, StatusConflict, "the deadline %s has passed", t.Deadline.Format(time.RFC3339)), nil
	}
	if old, err := s.load(t.ID, true); err == nil {
		if old.Role == RoleWorker && old.Requester == p && old.Hash() == t.Hash() {
			return Response{Status: StatusOK, Reason: "already received"}, nil // a retry
		}
		return s.refusal(StatConflict, StatusConflict, "task id already in use"), nil
	} else if !errors.Is(err, ErrNotFound) {
		s.log.Error("task: read task", logkey.Task, t.ID, logkey.Err, err)
		return s.refusal(StatStorage, StatusUnavailable, "the worker could not read its store"), nil
	}
	if s.cfg.Gate != nil {
		if ok, reason := s.cfg.Gate(p); !ok {
			if reason == "" {
				reason = "not admitted by the worker's policy"
			}
			return s.refusal(StatDeclinedGate, StatusDeclined, "%s", reason), nil
		}
	}
	if err := s.reserve(p); err != nil {
		return s.refusal(StatTooMany, StatusTooMany, "%v", err), nil
	}
	t.Role, t.State, t.UpdatedAt = RoleWorker, StateSubmitted, truncMs(now)
	t.Result, t.Error, t.Receipt = nil, "", nil
	if err := s.create(entry{Task: t}); err != nil {
		s.release(p)
		if errors.Is(err, errExists) {
			return s.refusal(StatConflict, StatusConflict, "task id already in use"), nil
		}
		s.log.Error("task: store task", logkey.Task, t.ID, logkey.Err, err)
		return Response{Status: StatusUnavailable, Reason: "the worker could not store the task"}, nil
	}
	s.stat(StatAdmitted)
	if !s.cfg.automatic() {
		return Response{Status: StatusOK}, nil
	}
	return Response{Status: StatusOK}, func() { s.startRun(t.ID) }
}

// onUpdate applies the worker p's UPDATE to a task this node requested.
func (s *Service) onUpdate(p peer.ID, u Task) (Response, func()) {
	now := s.cfg.Now()
	expired := false
	before, after, err := s.change(u.ID, func(e *entry) error {
		switch {
		case e.Role != RoleRequester || e.Worker != p:
			return errWrongPeer
		case e.State == u.State:
			return errUnchanged // a retry
		case s.overdue(e, now):
			expireIn(e)
			expired = true
			return nil
		case !e.State.reaches(u.State):
			return fmt.Errorf("the task is %s here, it cannot become %s: %w", e.State, u.State, ErrIllegalTransition)
		}
		e.State = u.State
		if u.State.Terminal() {
			e.Error, e.Result, e.Receipt = u.Error, u.Result, u.Receipt
		}
		return nil
	})
	if resp, bad := s.frameRefusal(err, expired); bad {
		return resp, nil
	}
	if after.State == before.State {
		return Response{Status: StatusOK, Reason: "already applied"}, nil
	}
	s.stat(StatUpdates)
	if !after.State.Terminal() || s.cfg.OnFinished == nil {
		return Response{Status: StatusOK}, nil
	}
	return Response{Status: StatusOK}, func() {
		if e, err := s.load(u.ID, true); err == nil {
			s.cfg.OnFinished(e.Task)
		} else {
			s.log.Error("task: read finished task", logkey.Task, u.ID, logkey.Err, err)
		}
	}
}

// onCancel applies the requester p's CANCEL to a task this node works on.
func (s *Service) onCancel(p peer.ID, c Task) Response {
	before, after, err := s.change(c.ID, func(e *entry) error {
		switch {
		case e.Role != RoleWorker || e.Requester != p:
			return errWrongPeer
		case e.State == StateCancelled:
			return errUnchanged // a retry
		case e.State.Terminal():
			return fmt.Errorf("the task is already %s: %w", e.State, ErrIllegalTransition)
		}
		e.State, e.Error = StateCancelled, "cancelled by the requester"
		return nil
	})
	if resp, bad := s.frameRefusal(err, false); bad {
		return resp
	}
	if after.State != before.State {
		s.stat(StatCancels)
	}
	return Response{Status: StatusOK}
}

// frameRefusal maps the outcome of an UPDATE or CANCEL to a refusal.
func (s *Service) frameRefusal(err error, expired bool) (Response, bool) {
	switch {
	case expired:
		return s.refusal(StatConflict, StatusConflict, "the task expired here"), true
	case err == nil:
		return Response{}, false
	case errors.Is(err, ErrNotFound):
		return s.refusal(StatUnknownTask, StatusUnknownTask, "unknown task"), true
	case errors.Is(err, errWrongPeer):
		// Answered like an unknown ID: a stranger learns nothing.
		return s.refusal(StatWrongPeer, StatusUnknownTask, "unknown task"), true
	case errors.Is(err, ErrIllegalTransition):
		return s.refusal(StatConflict, StatusConflict, "%v", err), true
	}
	s.log.Error("task: apply frame", logkey.Err, err)
	return Response{Status: StatusUnavailable, Reason: "the receiver could not store the change"}, true
}
