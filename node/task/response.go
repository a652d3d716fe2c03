package task

import (
	"fmt"
	"io"
)

// Status is the receiver's verdict on a frame.
type Status byte

// Response statuses.
const (
	StatusOK          Status = 0 // applied (or already applied: frames are idempotent)
	StatusDeclined    Status = 1 // SUBMIT refused by the worker's gate
	StatusUnknownTask Status = 2 // no such task between these two peers
	StatusBadFrame    Status = 3 // the frame breaks the protocol
	StatusTooMany     Status = 4 // too many pending tasks or streams; retry later
	StatusConflict    Status = 5 // the task's state forbids it, or the ID is taken
	StatusUnavailable Status = 6 // the receiver could not store it or is closing; retry later
	maxStatus                = StatusUnavailable
)

// String is the status in words.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusDeclined:
		return "declined"
	case StatusUnknownTask:
		return "unknown task"
	case StatusBadFrame:
		return "bad frame"
	case StatusTooMany:
		return "too many"
	case StatusConflict:
		return "conflict"
	case StatusUnavailable:
		return "unavailable"
	}
	return fmt.Sprintf("status %d", byte(s))
}

// transient reports whether the same frame may succeed later.
func (s Status) transient() bool { return s == StatusTooMany || s == StatusUnavailable }

// MaxReasonLen bounds the reason of a response, in bytes.
const MaxReasonLen = 255

// Response is the receiver's answer to a frame:
//
//	status (1) | reason length (1) | reason (printable UTF-8)
//
// after which the receiver closes the stream.
type Response struct {
	Status Status
	Reason string
}

// EncodeResponse encodes r; the reason is made printable and cut to
// MaxReasonLen bytes.
func EncodeResponse(r Response) []byte {
	reason := sanitize(r.Reason, MaxReasonLen)
	b := make([]byte, 0, 2+len(reason))
	b = append(b, byte(r.Status), byte(len(reason)))
	return append(b, reason...)
}

// DecodeResponse reads one response, refusing an unknown status or a
// reason that is not printable UTF-8.
func DecodeResponse(r io.Reader) (Response, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return Response{}, fmt.Errorf("read response: %w", err)
	}
	resp := Response{Status: Status(h[0])}
	if resp.Status > maxStatus {
		return Response{}, fmt.Errorf("response: unknown status %d", h[0])
	}
	reason := make([]byte, h[1])
	if _, err := io.ReadFull(r, reason); err != nil {
		return Response{}, fmt.Errorf("read response reason: %w", err)
	}
	if err := checkText("response reason", string(reason), MaxReasonLen); err != nil {
		return Response{}, fmt.Errorf("response: %w", err)
	}
	resp.Reason = string(reason)
	return resp, nil
}

// RemoteError is a refusal by the peer. It matches ErrRejected, and
// ErrDeclined, ErrNotFound or ErrTooMany by status.
type RemoteError struct {
	Status Status
	Reason string // the peer's words, printable, at most MaxReasonLen bytes
}

// Error implements error.
func (e *RemoteError) Error() string {
	if e.Status == StatusDeclined {
		return "declined by the worker: " + e.Reason
	}
	if e.Reason == "" {
		return fmt.Sprintf("rejected by the peer (%s)", e.Status)
	}
	return fmt.Sprintf("rejected by the peer (%s): %s", e.Status, e.Reason)
}

// Is makes errors.Is work with the sentinel errors.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrRejected:
		return true
	case ErrDeclined:
		return e.Status == StatusDeclined
	case ErrNotFound:
		return e.Status == StatusUnknownTask
	case ErrTooMany:
		return e.Status == StatusTooMany
	}
	return false
}

// remoteErr converts a refusal; nil for StatusOK.
func remoteErr(r Response) error {
	if r.Status == StatusOK {
		return nil
	}
	return &RemoteError{Status: r.Status, Reason: r.Reason}
}
