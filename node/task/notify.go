package task

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pilot-agents/pilot/node/logkey"
	"github.com/pilot-agents/pilot/node/ports"
)

// Delivery of what the peer must learn: the worker's UPDATEs, the
// requester's CANCEL. A task's record carries a "notify" flag, set with
// the change that needs telling and cleared once the peer answered; one
// goroutine per task delivers the current state (so changes in a row
// coalesce), retrying with doubling delays from retryBase, maxTries
// attempts in all (about a minute), then giving up. The flag is stored,
// so deliveries resume at the next Start.

// notifier is the delivery goroutine of one task.
type notifier struct {
	dirty bool          // the task changed since the attempt began (under s.mu)
	wake  chan struct{} // cuts a retry delay short
}

// kick makes sure a delivery goroutine runs for id.
func (s *Service) kick(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.closed {
		return // the flag is stored: Start resumes it
	}
	if n := s.notifiers[id]; n != nil {
		n.dirty = true
		select {
		case n.wake <- struct{}{}:
		default:
		}
		return
	}
	n := &notifier{wake: make(chan struct{}, 1)}
	s.notifiers[id] = n
	s.wg.Add(1)
	go s.notifyLoop(id, n)
}

func (s *Service) notifyLoop(id string, n *notifier) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		n.dirty = false
		s.mu.Unlock()
		if wait := s.notifyOnce(id); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			case <-n.wake:
				t.Stop()
			}
			continue
		}
		s.mu.Lock()
		if !n.dirty || s.closed {
			delete(s.notifiers, id)
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// notifyOnce makes one delivery attempt of the current state of id. It
// returns how long to wait before the next attempt, 0 when done.
func (s *Service) notifyOnce(id string) time.Duration {
	e, err := s.load(id, true)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.log.Error("task: read task to notify", logkey.Task, id, logkey.Err, err)
		}
		return 0
	}
	if !e.notify {
		return 0
	}
	f, ok := notification(e)
	if ok {
		if err := checkFrame(f); err != nil {
			s.log.Error("task: cannot encode a notification", logkey.Task, id, logkey.Err, err)
			ok = false
		}
	}
	if !ok {
		s.notified(e, false)
		return 0
	}
	resp, _, err := s.exchange(s.ctx, e.Peer(), f)
	if s.ctx.Err() != nil {
		return 0 // closing: the flag stays for the next Start
	}
	if err == nil && !resp.Status.transient() {
		if resp.Status == StatusOK {
			s.stat(StatDelivered)
		} else {
			s.stat(StatRefused)
			s.log.Info("task: peer refused a notification", logkey.Task, id, logkey.Kind, f.Type, logkey.Peer, e.Peer(),
				logkey.Status, resp.Status, logkey.Reason, resp.Reason)
		}
		s.notified(e, true)
		return 0
	}
	if err == nil {
		err = remoteErr(resp)
	}
	tries := e.notifyTries + 1
	if tries >= s.maxTries {
		s.stat(StatGaveUp)
		s.log.Warn("task: giving up a notification", logkey.Task, id, logkey.Kind, f.Type, logkey.Peer, e.Peer(), logkey.Attempt, tries, logkey.Err, err)
		s.notified(e, true)
		return 0
	}
	s.stat(StatRetries)
	s.log.Debug("task: notification failed; retrying", logkey.Task, id, logkey.Peer, e.Peer(), logkey.Attempt, tries, logkey.Err, err)
	_, _, cerr := s.change(id, func(x *entry) error {
		if x.seq != e.seq {
			return errUnchanged // changed meanwhile: the next attempt sends the new state
		}
		x.notifyTries = tries
		return nil
	})
	if cerr != nil {
		s.log.Error("task: record a failed notification", logkey.Task, id, logkey.Err, cerr)
	}
	return s.retryBase << (tries - 1)
}

// notified clears the flag of e unless the task changed since e was read,
// and calls OnFinished for a worker's terminal UPDATE when finished.
func (s *Service) notified(e entry, finished bool) {
	cleared := false
	_, _, err := s.change(e.ID, func(x *entry) error {
		if x.seq != e.seq {
			return errUnchanged
		}
		x.notify, x.notifyTries, cleared = false, 0, true
		return nil
	})
	if err != nil {
		s.log.Error("task: clear a notification", logkey.Task, e.ID, logkey.Err, err)
	}
	if cleared && finished && e.Role == RoleWorker && e.State.Terminal() && s.cfg.OnFinished != nil {
		s.cfg.OnFinished(e.Task)
	}
}

// notification is the frame that tells the peer the state of e.
func notification(e entry) (Frame, bool) {
	switch {
	case e.Role == RoleWorker && e.State != StateSubmitted:
		u := Task{ID: e.ID, State: e.State}
		if e.State.Terminal() {
			u.Error = e.Error
		}
		if e.State == StateSucceeded || e.State == StateFailed {
			u.Result, u.Receipt = e.Result, e.Receipt
		}
		return Frame{Type: FrameUpdate, Task: u}, true
	case e.Role == RoleRequester && e.State == StateCancelled:
		return Frame{Type: FrameCancel, Task: Task{ID: e.ID}}, true
	}
	return Frame{}, false
}

// exchange sends f to the task port of to and reads the answer. opened
// reports whether a stream was open, so that the frame may have arrived
// even when err is set.
func (s *Service) exchange(ctx context.Context, to peer.ID, f Frame) (resp Response, opened bool, err error) {
	b, err := EncodeFrame(f)
	if err != nil {
		return Response{}, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.exchangeTimeout)
	defer cancel()
	c, err := s.cfg.Mux.Dial(ctx, to, ports.PortTasks)
	if err != nil {
		return Response{}, false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Reset() })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	// The frame is written while the answer is awaited: a receiver that
	// refuses early answers before reading it all.
	wdone := make(chan error, 1)
	go func() {
		_, err := c.Write(b)
		if err == nil {
			err = c.CloseWrite()
		}
		wdone <- err
	}()
	resp, rerr := DecodeResponse(c)
	if rerr != nil {
		werr := <-wdone
		if cerr := ctx.Err(); cerr != nil {
			return Response{}, true, cerr
		}
		if werr != nil {
			return Response{}, true, fmt.Errorf("send %s: %w", f.Type, werr)
		}
		return Response{}, true, rerr
	}
	select {
	case <-wdone:
	default: // answered before the frame was taken: stop writing
		c.Reset()
		<-wdone
	}
	return resp, true, nil
}
