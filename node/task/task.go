// Package task is Pilot's task service on well-known port 1003
// (ports.PortTasks): an agent, the requester, submits a typed JSON task to
// another, the worker, which admits it through a gate, runs it (by hand
// with Accept and Complete, or automatically with an ExecHandler) and
// reports every change of state back, ending with the result and a receipt
// the worker signs (Config.SignReceipt) so that the requester can attest the
// exchange for reputation.
//
// Lifecycle (any other move is refused with ErrIllegalTransition):
//
//	submitted → accepted | declined | cancelled | expired
//	accepted  → executing | cancelled | expired
//	executing → succeeded | failed | cancelled | expired
//
// declined, succeeded, failed, cancelled and expired are terminal. A task
// not finished by its deadline expires on both sides.
//
// Both sides keep their copy in Badger under "/task/", written on every
// transition (durable when the DB is opened with SyncWrites), so tasks
// survive restarts; a worker that restarts fails the tasks it was running
// ("worker restarted") and tells their requesters. Messages a peer must
// see (the worker's UPDATEs, the requester's CANCEL) are retried with
// backoff, also across restarts.
//
// On the wire each stream carries one frame (SUBMIT, UPDATE or CANCEL),
// validated against its limits before anything is allocated, and the
// receiver answers with a one-byte status and a short reason. A peer may
// only UPDATE tasks this node submitted to it and only CANCEL tasks it
// requested; everything else is refused and counted (Stats). The frame
// layout is documented on EncodeFrame.
package task

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Limits of a task. A frame or stored record outside them is refused.
const (
	// IDLen is the length of a task ID: 16 random bytes in lower-case hex.
	IDLen = 32
	// MaxTypeLen bounds Task.Type, which is 1..MaxTypeLen of [a-z0-9._-].
	MaxTypeLen = 64
	// MaxInput bounds Task.Input, in bytes.
	MaxInput = 256 << 10
	// MaxResult bounds Task.Result, in bytes.
	MaxResult = 1 << 20
	// MaxErrorLen bounds Task.Error, in bytes.
	MaxErrorLen = 1024
	// MaxReceipt bounds Task.Receipt, in bytes.
	MaxReceipt = 16 << 10
	// MaxPeerIDLen bounds the binary form of a peer ID in a frame.
	MaxPeerIDLen = 128
	// MaxTimeout bounds the time between submission and deadline.
	MaxTimeout = 7 * 24 * time.Hour
	// DefaultTimeout is the deadline Submit gives a task when its timeout
	// is zero.
	DefaultTimeout = 10 * time.Minute
)

// Errors callers branch on. A refusal by the peer is a *RemoteError, which
// matches ErrRejected and, by status, ErrDeclined, ErrTooMany or
// ErrNotFound.
var (
	// ErrNotFound: no task with that ID here (or at the peer).
	ErrNotFound = errors.New("no such task")
	// ErrInvalid: an argument breaks the task's rules (type, input, result,
	// timeout, peer).
	ErrInvalid = errors.New("invalid task")
	// ErrIllegalTransition: the lifecycle does not allow the move from the
	// task's current state.
	ErrIllegalTransition = errors.New("illegal state transition")
	// ErrWrongRole: the operation belongs to the other side of the task
	// (Accept on a task this node requested, ...).
	ErrWrongRole = errors.New("operation not allowed in this role")
	// ErrExpired: the task's deadline passed; it is now expired.
	ErrExpired = errors.New("task expired")
	// ErrRejected: the peer refused the frame (see *RemoteError).
	ErrRejected = errors.New("rejected by the peer")
	// ErrDeclined: the worker's gate declined the task.
	ErrDeclined = errors.New("declined by the worker")
	// ErrTooMany: the worker has too many pending tasks or streams.
	ErrTooMany = errors.New("the worker has too many pending tasks")
	// ErrClosed: the service is not running (not started, or closed).
	ErrClosed = errors.New("task service not running")
)

// Role is the local node's side of a task.
type Role string

// The two roles.
const (
	RoleRequester Role = "requester" // this node submitted the task
	RoleWorker    Role = "worker"    // this node was asked to do it
)

func (r Role) valid() bool { return r == RoleRequester || r == RoleWorker }

// Task is one task as this node stores it. Times are UTC with millisecond
// precision, so both sides hold the same values.
type Task struct {
	ID          string          `json:"id"` // 16 random bytes, lower-case hex
	Requester   peer.ID         `json:"requester"`
	Worker      peer.ID         `json:"worker"`
	Type        string          `json:"type"`             // 1..64 of [a-z0-9._-]
	Input       json.RawMessage `json:"input,omitempty"`  // valid JSON, at most MaxInput bytes
	Result      json.RawMessage `json:"result,omitempty"` // JSON, at most MaxResult bytes, once finished
	Error       string          `json:"error,omitempty"`  // why it failed, was declined, cancelled or expired
	State       State           `json:"state"`
	Role        Role            `json:"role"` // the local node's role
	SubmittedAt time.Time       `json:"submitted_at"`
	UpdatedAt   time.Time       `json:"updated_at"` // last local state change
	Deadline    time.Time       `json:"deadline"`
	Receipt     []byte          `json:"receipt,omitempty"` // the worker's opaque receipt, once succeeded or failed
}

// Peer is the other party of the task.
func (t Task) Peer() peer.ID {
	if t.Role == RoleWorker {
		return t.Requester
	}
	return t.Worker
}

const (
	hashDomain   = "pilot/task/v1\x00"
	resultDomain = "pilot/task-result/v1\x00"
)

// Hash identifies the task as both sides know it: SHA-256 over
//
//	"pilot/task/v1" 0x00 | id | requester | worker | type | input |
//	submitted_at ms (8) | deadline ms (8)
//
// where id, type and input are prefixed with their length (4 bytes, big
// endian), the peers are their binary forms prefixed the same way, and the
// times are Unix milliseconds as big-endian int64. Result, state and local
// fields are not covered: the hash is fixed at submission.
func (t Task) Hash() [32]byte {
	b := make([]byte, 0, len(hashDomain)+len(t.ID)+len(t.Requester)+len(t.Worker)+len(t.Type)+len(t.Input)+5*4+16)
	b = append(b, hashDomain...)
	b = appendField(b, []byte(t.ID))
	b = appendField(b, []byte(t.Requester))
	b = appendField(b, []byte(t.Worker))
	b = appendField(b, []byte(t.Type))
	b = appendField(b, t.Input)
	b = binary.BigEndian.AppendUint64(b, uint64(t.SubmittedAt.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(t.Deadline.UnixMilli()))
	return sha256.Sum256(b)
}

// ResultHash identifies an outcome: SHA-256 over "pilot/task-result/v1"
// 0x00 | result | errText, each prefixed with its length (4 bytes, big
// endian). A receipt signs it together with Task.Hash.
func ResultHash(result []byte, errText string) [32]byte {
	b := make([]byte, 0, len(resultDomain)+len(result)+len(errText)+8)
	b = append(b, resultDomain...)
	b = appendField(b, result)
	b = appendField(b, []byte(errText))
	return sha256.Sum256(b)
}

func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// ms is t as Unix milliseconds; fromMs the reverse, in UTC.
func ms(t time.Time) int64          { return t.UnixMilli() }
func fromMs(v int64) time.Time      { return time.UnixMilli(v).UTC() }
func truncMs(t time.Time) time.Time { return fromMs(ms(t)) }

// validID reports whether id has the form this package issues.
func validID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// CheckType reports why typ is not a valid task type, or nil.
func CheckType(typ string) error {
	if typ == "" || len(typ) > MaxTypeLen {
		return fmt.Errorf("task type of %d bytes (want 1..%d)", len(typ), MaxTypeLen)
	}
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return fmt.Errorf("task type %q has a character outside [a-z0-9._-]", typ)
		}
	}
	return nil
}

func checkInput(in []byte) error {
	switch {
	case len(in) == 0:
		return errors.New("empty input (want a JSON value)")
	case len(in) > MaxInput:
		return fmt.Errorf("input of %d bytes (max %d)", len(in), MaxInput)
	case !json.Valid(in):
		return errors.New("input is not valid JSON")
	}
	return nil
}

// checkResult accepts no result or one JSON value of at most MaxResult.
func checkResult(r []byte) error {
	switch {
	case len(r) == 0:
		return nil
	case len(r) > MaxResult:
		return fmt.Errorf("result of %d bytes (max %d)", len(r), MaxResult)
	case !json.Valid(r):
		return errors.New("result is not valid JSON")
	}
	return nil
}

// checkText accepts printable UTF-8 of at most max bytes.
func checkText(what, s string, max int) error {
	switch {
	case len(s) > max:
		return fmt.Errorf("%s of %d bytes (max %d)", what, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return fmt.Errorf("%s contains a control character", what)
	}
	return nil
}

// sanitize makes s printable UTF-8 of at most max bytes: invalid bytes and
// control characters become '?' or, for tabs and newlines, spaces.
func sanitize(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case (r == utf8.RuneError && n == 1) || unicode.IsControl(r):
			r = '?'
		}
		if b.Len()+utf8.RuneLen(r) > max {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkPeers validates the parties of a task.
func checkPeers(requester, worker peer.ID) error {
	if err := requester.Validate(); err != nil {
		return fmt.Errorf("requester: %w", err)
	}
	if err := worker.Validate(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if requester == worker {
		return errors.New("requester and worker are the same peer")
	}
	if len(requester) > MaxPeerIDLen || len(worker) > MaxPeerIDLen {
		return fmt.Errorf("peer ID longer than %d bytes", MaxPeerIDLen)
	}
	return nil
}

// checkTimes validates a task's submission time and deadline (Unix ms).
func checkTimes(submitted, deadline int64) error {
	switch {
	case submitted <= 0 || submitted > maxMs:
		return fmt.Errorf("submission time %d ms out of range", submitted)
	case deadline <= submitted:
		return errors.New("deadline not after the submission time")
	case deadline-submitted > MaxTimeout.Milliseconds():
		return fmt.Errorf("deadline more than %s after submission", MaxTimeout)
	}
	return nil
}

// maxMs is year 9999 in Unix milliseconds: later times are nonsense.
const maxMs = 253402300799999
