package workers

import (
	"context"
	"errors"
	"strings"

	"github.com/parley-chat/parley/pipeline"
)

// Reason codes a failed attachment carries in its Error field.
const (
	ReasonUnsupported = "unsupported" // a format the pipeline does not handle
	ReasonCorrupt     = "corrupt"     // the bytes do not decode
	ReasonTooLarge    = "too_large"   // over a size, pixel or duration limit
	ReasonTimeout     = "timeout"     // processing took longer than allowed, every try
	ReasonStorage     = "storage"     // the object store failed, every try
	ReasonInternal    = "internal"    // anything else (database, bugs)
)

// Task-level reason codes: the job failed before any processing verdict.
const (
	ReasonGone        = "gone"        // the attachment no longer exists
	ReasonDatabase    = "database"    // the database could not be read or written
	ReasonInterrupted = "interrupted" // the worker stopped mid-job (crash, kill, lost lease)
)

// reasonMessages are the short explanations admins see next to a reason
// code (GET /v1/admin/jobs, parley jobs list). The full error chain, with
// temp paths and library messages, goes only to the worker's log.
var reasonMessages = map[string]string{
	ReasonUnsupported: "the file's format is not one the pipeline handles",
	ReasonCorrupt:     "the file could not be decoded as its kind",
	ReasonTooLarge:    "the file is over a size, pixel or duration limit",
	ReasonTimeout:     "processing took longer than allowed",
	ReasonStorage:     "the object store failed reading the original or writing the variants",
	ReasonInternal:    "internal error; the worker log has the details (search for the attachment id)",
	ReasonGone:        "the attachment no longer exists",
	ReasonDatabase:    "the database could not be reached; the worker log has the details",
	ReasonInterrupted: "the worker stopped mid-job and the task was handed back",
}

// taskError is what a handler returns to asynq, which stores its text as
// the task's last error: "reason: short message". It unwraps to the cause
// so asynq still sees SkipRetry.
type taskError struct {
	reason string
	cause  error
}

func (e *taskError) Error() string { return e.reason + ": " + reasonMessages[e.reason] }
func (e *taskError) Unwrap() error { return e.cause }

// parseLastErr splits a task's last error into its reason code and short
// message. Errors not written by taskError (asynq's own, or from older
// versions) keep no detail: their text may hold paths and internals.
func parseLastErr(s string) (reason, message string) {
	if s == "" {
		return "", ""
	}
	if code, msg, ok := strings.Cut(s, ": "); ok {
		if want, known := reasonMessages[code]; known && msg == want {
			return code, msg
		}
	}
	if strings.Contains(s, "lease expired") || strings.Contains(s, "deadline exceeded") {
		return ReasonInterrupted, reasonMessages[ReasonInterrupted]
	}
	return ReasonInternal, reasonMessages[ReasonInternal]
}

// storageError marks a failure of the object store, so that the reason code
// tells operators where to look.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }
func (e *storageError) Unwrap() error { return e.err }

// permanentError marks a failure the worker itself found hopeless (an
// original over the size bound), on top of those pipeline.Permanent knows.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Reason maps a processing error to the reason code shown to clients.
func Reason(err error) string {
	var se *storageError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, pipeline.ErrUnsupported):
		return ReasonUnsupported
	case errors.Is(err, pipeline.ErrCorrupt):
		return ReasonCorrupt
	case errors.Is(err, pipeline.ErrTooLarge):
		return ReasonTooLarge
	case errors.Is(err, pipeline.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	case errors.As(err, &se):
		return ReasonStorage
	}
	return ReasonInternal
}

// permanent reports whether retrying err can never help.
func permanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe) || pipeline.Permanent(err)
}
