package task

import (
	"context"
	"errors"
)

// startRun runs the admitted task id with the Handler in a goroutine of
// its own. The run's context is cancelled when the task leaves executing
// by another way (cancel, expiry) or the service closes, which kills the
// command.
func (s *Service) startRun(id string) {
	s.mu.Lock()
	if !s.started || s.closed || s.running[id] != nil || s.cfg.Handler == nil {
		s.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.running[id] = cancel
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.running, id)
			s.mu.Unlock()
			cancel()
		}()
		s.run(ctx, id)
	}()
}

func (s *Service) run(ctx context.Context, id string) {
	select {
	case s.execSlots <- struct{}{}:
		defer func() { <-s.execSlots }()
	case <-ctx.Done():
		return
	}
	if err := s.accept(id); err != nil {
		if !errors.Is(err, ErrIllegalTransition) { // else: declined or cancelled meanwhile
			s.log.Warn("task: accept for the handler", "id", id, "err", err)
		}
		return
	}
	t, err := s.Get(id)
	if err != nil {
		s.log.Error("task: read task for the handler", "id", id, "err", err)
		return
	}
	result, errText, cost := s.cfg.Handler.Run(ctx, t)
	if ctx.Err() != nil {
		return // cancelled, expired or closing: the task's state says which
	}
	if err := s.finish(id, result, errText, cost); err != nil {
		s.log.Warn("task: finish after the handler", "id", id, "err", err)
	}
}
