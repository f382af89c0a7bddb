package chatcore

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Every error a client may see carries one of them; the edges
// (HTTP, WebSocket) map codes to status codes and error frames in one table.
const (
	EInvalid       = "invalid"       // the request is malformed or breaks a rule
	EUnauthorized  = "unauthorized"  // missing, expired, forged or revoked credentials
	EForbidden     = "forbidden"     // authenticated, but not allowed
	ENotFound      = "not_found"     // no such thing, or not visible to the caller
	EConflict      = "conflict"      // already exists / state does not allow it
	ETooLarge      = "too_large"     // over a size or count limit
	EUnsupported   = "unsupported"   // a type or kind Parley does not handle
	ERateLimited   = "rate_limited"  // too many requests; see Error.RetryAfter
	EUnprocessable = "unprocessable" // well-formed but the content is wrong (e.g. sniffed type mismatch)
	EGone          = "gone"          // a sync cursor too old or not valid here: start again without one
	EInternal      = "internal"      // anything else; never shown to clients in detail
	// EAccountDisabled: an admin disabled the account; login is refused.
	EAccountDisabled = "account_disabled"
)

// Error is the domain error: a code for programs and a message for humans.
// Internal errors are wrapped with fmt.Errorf and reported as EInternal.
type Error struct {
	Code    string
	Message string
	// RetryAfter is set with ERateLimited: how long the client should wait.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return fmt.Sprintf("chatcore: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err: "" for nil, the *Error's code when err
// wraps one, EInternal otherwise.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the human-readable message of err. Internal errors
// yield a generic message so details never leak to clients.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
