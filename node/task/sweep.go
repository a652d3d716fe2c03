package task

import (
	"context"
	"errors"
	"time"

	"github.com/pilot-agents/pilot/node/logkey"
)

// pruneEvery is how often finished tasks older than Config.Retention are
// deleted.
const pruneEvery = time.Hour

// sweeper expires overdue tasks at once and then every sweepEvery, and
// prunes old finished tasks.
func (s *Service) sweeper() {
	defer s.wg.Done()
	tick := time.NewTicker(s.sweepEvery)
	defer tick.Stop()
	var pruned time.Time
	for {
		s.sweep()
		if s.cfg.Retention > 0 && time.Since(pruned) >= pruneEvery {
			s.prune()
			pruned = time.Now()
		}
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sweep expires the tasks past their deadline (the requester's copy a
// grace period later, so that the worker's last UPDATE can arrive).
func (s *Service) sweep() {
	now := s.cfg.Now()
	var due []string
	s.mu.Lock()
	for id, d := range s.deadlines {
		if !now.Before(d) {
			due = append(due, id)
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		_, _, err := s.change(id, func(e *entry) error {
			if !s.overdue(e, now) {
				return errUnchanged
			}
			expireIn(e)
			return nil
		})
		if errors.Is(err, ErrNotFound) {
			s.mu.Lock()
			delete(s.deadlines, id)
			s.mu.Unlock()
		} else if err != nil {
			s.log.Error("task: expire", logkey.Task, id, logkey.Err, err)
		}
	}
}

// prune deletes finished tasks last changed before the retention period,
// once nothing remains to tell their peers.
func (s *Service) prune() {
	cutoff := s.cfg.Now().Add(-s.cfg.Retention)
	var old []string
	err := s.records(func(e entry) bool {
		if e.State.Terminal() && !e.notify && e.UpdatedAt.Before(cutoff) {
			old = append(old, e.ID)
		}
		return s.ctx.Err() == nil
	}, nil)
	if err != nil {
		s.log.Error("task: list old tasks", logkey.Err, err)
		return
	}
	for _, id := range old {
		mu := s.lockOf(id)
		mu.Lock()
		err := s.drop(id)
		mu.Unlock()
		if err != nil {
			s.log.Error("task: delete old task", logkey.Task, id, logkey.Err, err)
			return
		}
	}
}

// recover resumes after a restart: tasks this worker was running fail with
// "worker restarted", admitted tasks go to the Handler, and pending
// deliveries resume.
func (s *Service) recover(ctx context.Context) error {
	var interrupted, admitted, notify []string
	err := s.records(func(e entry) bool {
		switch {
		case e.Role == RoleWorker && (e.State == StateAccepted || e.State == StateExecuting):
			interrupted = append(interrupted, e.ID)
		case e.Role == RoleWorker && e.State == StateSubmitted && s.cfg.automatic():
			admitted = append(admitted, e.ID)
		case e.notify:
			notify = append(notify, e.ID)
		}
		return ctx.Err() == nil
	}, nil)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return err
	}
	for _, id := range interrupted {
		_, err := s.transition(id, RoleWorker, StateExecuting, nil)
		if err == nil || errors.Is(err, ErrIllegalTransition) { // already executing
			err = s.finish(id, nil, "worker restarted", 0)
		}
		if err != nil && !errors.Is(err, ErrExpired) {
			s.log.Warn("task: fail interrupted task", logkey.Task, id, logkey.Err, err)
		}
	}
	for _, id := range admitted {
		s.startRun(id)
	}
	for _, id := range notify {
		s.kick(id)
	}
	return nil
}
