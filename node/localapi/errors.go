// Package localapi is the daemon's local HTTP/JSON API on a Unix socket: the
// wire types, the server that exposes a Backend (the running node) and the
// client the CLI uses.
//
// Every response is the CLI's JSON envelope: {"status":"ok","data":…} or
// {"status":"error","code":…,"message":…,"hint":…}. The socket is created
// with mode 0600, so only the daemon's user can talk to it.
package localapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Error codes, shared by the API and the CLI.
const (
	CodeInvalidArgument  = "invalid_argument"
	CodeNotFound         = "not_found"
	CodeAmbiguous        = "ambiguous"
	CodeNotRunning       = "not_running"
	CodeConnectionFailed = "connection_failed"
	CodeTimeout          = "timeout"
	CodeTrustRequired    = "trust_required"
	CodeInternal         = "internal"
)

// Error is an error with a stable code and a hint for the user.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and hint.
func Errorf(code, hint, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// AsError returns err as an *Error, mapping context errors to CodeTimeout and
// anything else without a code to CodeInternal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeTimeout, Message: err.Error(), Hint: "the operation took too long; check connectivity with `pilot status` and retry"}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Code: CodeTimeout, Message: err.Error(), Hint: "the operation was cancelled"}
	}
	return &Error{Code: CodeInternal, Message: err.Error(), Hint: "this is a bug or an environment problem; see the daemon's log"}
}

// httpStatus maps an error code to the HTTP status the server answers with.
func httpStatus(code string) int {
	switch code {
	case CodeInvalidArgument:
		return http.StatusBadRequest
	case CodeNotFound:
		return http.StatusNotFound
	case CodeAmbiguous:
		return http.StatusConflict
	case CodeTrustRequired:
		return http.StatusForbidden
	case CodeTimeout:
		return http.StatusGatewayTimeout
	case CodeConnectionFailed:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
	}
}
