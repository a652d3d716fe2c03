package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pilot-agents/pilot/node/logkey"
)

// startRun runs the admitted task id with the Handler (or Func) in a
// goroutine of its own. The run's context is cancelled when the task
// leaves executing by another way (cancel, expiry) or the service closes,
// which kills the command (or tells Func to return).
func (s *Service) startRun(id string) {
	s.mu.Lock()
	if !s.started || s.closed || s.running[id] != nil || !s.cfg.automatic() {
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
			s.log.Warn("task: accept for the handler", logkey.Task, id, logkey.Err, err)
		}
		return
	}
	t, err := s.Get(id)
	if err != nil {
		s.log.Error("task: read task for the handler", logkey.Task, id, logkey.Err, err)
		return
	}
	var (
		result  json.RawMessage
		errText string
		cost    time.Duration
	)
	if s.cfg.Handler != nil {
		result, errText, cost = s.cfg.Handler.Run(ctx, t)
	} else {
		result, errText, cost = runFunc(ctx, s.cfg.Func, t)
	}
	if ctx.Err() != nil {
		return // cancelled, expired or closing: the task's state says which
	}
	if err := s.finish(id, result, errText, cost); err != nil {
		s.log.Warn("task: finish after the handler", logkey.Task, id, logkey.Err, err)
	}
}

// runFunc runs an in-process handler (Config.Func) for t: a result that
// is not acceptable (invalid JSON, too large) or a panic fails the task
// instead of leaving it executing.
func runFunc(ctx context.Context, f func(context.Context, Task) (json.RawMessage, string), t Task) (result json.RawMessage, errText string, cost time.Duration) {
	start := time.Now()
	defer func() {
		cost = time.Since(start)
		if p := recover(); p != nil {
			result, errText = nil, sanitize(fmt.Sprintf("handler panicked: %v", p), MaxErrorLine)
		}
	}()
	result, errText = f(ctx, t)
	if errText != "" {
		return nil, errText, 0
	}
	if err := checkResult(result); err != nil {
		return nil, "handler: " + err.Error(), 0
	}
	return result, "", 0
}
