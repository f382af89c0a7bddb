package workers

import (
	"context"
	"errors"

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
