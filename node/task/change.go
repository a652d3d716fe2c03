package task

import (
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

var (
	// errUnchanged, from a change function, leaves the record as it is.
	errUnchanged = errors.New("unchanged")
	// errExists: create found the ID taken.
	errExists = errors.New("task id already in use")
	// errWrongPeer: the sender of a frame is not party to the task.
	errWrongPeer = errors.New("the peer is not party to this task")
)

var lockSeed = maphash.MakeSeed()

func (s *Service) lockOf(id string) *sync.Mutex {
	return &s.locks[maphash.String(lockSeed, id)%uint64(len(s.locks))]
}

// create stores a new task with its input; errExists if the ID is taken.
func (s *Service) create(e entry) error {
	mu := s.lockOf(e.ID)
	mu.Lock()
	defer mu.Unlock()
	switch _, err := s.load(e.ID, false); {
	case err == nil:
		return errExists
	case !errors.Is(err, ErrNotFound):
		s.stat(StatStorage)
		return fmt.Errorf("read task %s: %w", e.ID, err)
	}
	e.inputLen, e.resultLen, e.seq = len(e.Input), 0, 1
	if err := s.put(e, e.Input, nil); err != nil {
		s.stat(StatStorage)
		return err
	}
	s.mu.Lock()
	s.track(e)
	s.mu.Unlock()
	return nil
}

// change applies fn to the record of id under the task's lock and stores
// the result: the result body first when fn set one, then the record. fn
// sees the record without its bodies; returning errUnchanged leaves it as
// it is. It returns the record before and after.
func (s *Service) change(id string, fn func(e *entry) error) (before, after entry, err error) {
	mu := s.lockOf(id)
	mu.Lock()
	defer mu.Unlock()
	before, err = s.load(id, false)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.stat(StatStorage)
		}
		return entry{}, entry{}, err
	}
	after = before
	if err := fn(&after); err != nil {
		if errors.Is(err, errUnchanged) {
			return before, before, nil
		}
		return before, before, err
	}
	if after.State != before.State {
		after.UpdatedAt = truncMs(s.cfg.Now())
	}
	after.seq++
	var result []byte
	if len(after.Result) > 0 && before.resultLen == 0 {
		result = bytes.Clone(after.Result)
		after.resultLen = len(result)
	}
	if err := s.put(after, nil, result); err != nil {
		s.stat(StatStorage)
		return before, before, err
	}
	s.changed(before, after)
	return before, after, nil
}

// changed does the bookkeeping of a stored change.
func (s *Service) changed(before, after entry) {
	if after.State != before.State {
		if after.State.Terminal() {
			s.stat(string(after.State))
		}
		s.mu.Lock()
		if after.State.Terminal() {
			delete(s.deadlines, after.ID)
			if after.Role == RoleWorker {
				s.releaseLocked(after.Requester)
			}
			if cancel := s.running[after.ID]; cancel != nil {
				cancel() // kills the handler's process, if any
			}
		}
		if w := s.watchers[after.ID]; w != nil {
			close(w.ch)
			delete(s.watchers, after.ID)
		}
		s.mu.Unlock()
	}
	if after.notify && (!before.notify || after.State != before.State) {
		s.kick(after.ID)
	}
}

// track records when a non-terminal task expires here. The caller holds
// s.mu or runs before the service is shared.
func (s *Service) track(e entry) {
	d := e.Deadline
	if e.Role == RoleRequester {
		d = d.Add(s.grace)
	}
	s.deadlines[e.ID] = d
}

// overdue reports whether e is past its expiry at now.
func (s *Service) overdue(e *entry, now time.Time) bool {
	if e.State.Terminal() {
		return false
	}
	d := e.Deadline
	if e.Role == RoleRequester {
		d = d.Add(s.grace)
	}
	return !now.Before(d)
}

// expireIn moves e to expired; the worker tells the requester.
func expireIn(e *entry) {
	e.State = StateExpired
	e.Error = "deadline passed"
	if e.Role == RoleWorker {
		markNotify(e)
	}
}

// markNotify flags that the peer must learn of e's new state.
func markNotify(e *entry) {
	e.notify = true
	e.notifyTries = 0
}

// transition moves the task id, held in role (any role if ""), to state
// to, applying edit. A task past its deadline is expired instead, and
// ErrExpired returned.
func (s *Service) transition(id string, role Role, to State, edit func(e *entry)) (entry, error) {
	expired := false
	now := s.cfg.Now()
	_, after, err := s.change(id, func(e *entry) error {
		switch {
		case role != "" && e.Role != role:
			return fmt.Errorf("the local node is this task's %s: %w", e.Role, ErrWrongRole)
		case s.overdue(e, now):
			expireIn(e)
			expired = true
			return nil
		case !e.State.CanMoveTo(to):
			return fmt.Errorf("%s → %s: %w", e.State, to, ErrIllegalTransition)
		}
		e.State = to
		if edit != nil {
			edit(e)
		}
		return nil
	})
	if err != nil {
		return entry{}, err
	}
	if expired {
		return after, fmt.Errorf("deadline %s passed: %w", after.Deadline.Format(time.RFC3339), ErrExpired)
	}
	return after, nil
}

// reserve counts a new task of p against the pending limits.
func (s *Service) reserve(p peer.ID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.pending[p] >= s.cfg.MaxPending:
		return fmt.Errorf("%d tasks of yours are pending here (max %d)", s.pending[p], s.cfg.MaxPending)
	case s.pendingTotal >= s.cfg.MaxPendingTotal:
		return fmt.Errorf("%d tasks are pending here (max %d)", s.pendingTotal, s.cfg.MaxPendingTotal)
	}
	s.pending[p]++
	s.pendingTotal++
	return nil
}

func (s *Service) release(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(p)
}

func (s *Service) releaseLocked(p peer.ID) {
	if s.pending[p] <= 1 {
		delete(s.pending, p)
	} else {
		s.pending[p]--
	}
	if s.pendingTotal > 0 {
		s.pendingTotal--
	}
}

// watcher wakes the Waits of one task at its next state change.
type watcher struct {
	ch   chan struct{}
	refs int
}

// watch returns a channel closed at the next state change of id, and the
// function that gives it up.
func (s *Service) watch(id string) (<-chan struct{}, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.watchers[id]
	if w == nil {
		w = &watcher{ch: make(chan struct{})}
		s.watchers[id] = w
	}
	w.refs++
	return w.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if w.refs--; w.refs == 0 && s.watchers[id] == w {
			delete(s.watchers, id)
		}
	}
}
