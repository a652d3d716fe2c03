package task

// State is where a task is in its lifecycle.
type State string

// The states of a task.
const (
	StateSubmitted State = "submitted" // sent to (or received by) the worker, not yet accepted
	StateAccepted  State = "accepted"  // the worker took it on
	StateDeclined  State = "declined"  // the worker refused it (terminal)
	StateExecuting State = "executing" // the worker is running it
	StateSucceeded State = "succeeded" // done, with a result (terminal)
	StateFailed    State = "failed"    // done, with an error (terminal)
	StateCancelled State = "cancelled" // stopped by either side (terminal)
	StateExpired   State = "expired"   // its deadline passed (terminal)
)

// edges are the legal transitions.
var edges = map[State][]State{
	StateSubmitted: {StateAccepted, StateDeclined, StateCancelled, StateExpired},
	StateAccepted:  {StateExecuting, StateCancelled, StateExpired},
	StateExecuting: {StateSucceeded, StateFailed, StateCancelled, StateExpired},
}

// stateCodes are the wire codes of the states (index = code).
var stateCodes = [...]State{1: StateSubmitted, 2: StateAccepted, 3: StateDeclined, 4: StateExecuting,
	5: StateSucceeded, 6: StateFailed, 7: StateCancelled, 8: StateExpired}

func (s State) code() (byte, bool) {
	for c, st := range stateCodes {
		if st != "" && st == s {
			return byte(c), true
		}
	}
	return 0, false
}

// Valid reports whether s is one of the eight states.
func (s State) Valid() bool {
	_, ok := s.code()
	return ok
}

// Terminal reports whether no transition leaves s.
func (s State) Terminal() bool {
	switch s {
	case StateDeclined, StateSucceeded, StateFailed, StateCancelled, StateExpired:
		return true
	}
	return false
}

// CanMoveTo reports whether the lifecycle allows the transition s → to.
func (s State) CanMoveTo(to State) bool {
	for _, e := range edges[s] {
		if e == to {
			return true
		}
	}
	return false
}

// reaches reports whether a chain of legal transitions leads from s to to
// (at least one step). A requester applies an UPDATE this way: an
// intermediate UPDATE that was lost (accepted) does not block a later one
// (succeeded).
func (s State) reaches(to State) bool {
	for _, e := range edges[s] {
		if e == to || e.reaches(to) {
			return true
		}
	}
	return false
}
