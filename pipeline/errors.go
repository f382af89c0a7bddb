package pipeline

import (
	"context"
	"errors"
	"fmt"
)

var (
	// ErrUnsupported is returned by Process and its stages when the input is
	// not a format the requested kind can handle: text named .jpg, an
	// animated WebP, a "video" with no video stream. Retrying cannot help.
	ErrUnsupported = errors.New("pipeline: unsupported")

	// ErrCorrupt is returned when the input claims a supported format but
	// cannot be decoded: zero bytes, a truncated JPEG, audio with no samples.
	// Retrying cannot help.
	ErrCorrupt = errors.New("pipeline: corrupt")

	// ErrTooLarge is returned when the input exceeds Limits: too many
	// pixels, a side too long, a duration too long or too many bytes. It is
	// returned before the input is decoded. Retrying cannot help.
	ErrTooLarge = errors.New("pipeline: too large")

	// ErrTimeout is returned when processing took longer than
	// Limits.Timeout; the subprocesses were killed. A retry on a less busy
	// worker may succeed.
	ErrTimeout = errors.New("pipeline: timeout")
)

// Permanent reports whether err means that processing the same input again
// cannot succeed (unsupported, corrupt or too large). It is false for a
// timeout, a cancelled context and every other error, such as a missing
// ffmpeg or a full disk, which a retry may cure.
func Permanent(err error) bool {
	if err == nil || errors.Is(err, ErrTimeout) {
		return false
	}
	return errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge)
}

// errorf wraps a sentinel with context: errorf(ErrCorrupt, "jpeg: %w", err).
// A %w in format keeps the cause visible to errors.Is as well.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}

// ctxError turns the error of a stage that ran under ctx into ErrTimeout when
// it failed because ctx's deadline passed, and into the context's own error
// when the caller cancelled, so that a killed ffmpeg never reads as corrupt
// input.
func ctxError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		if errors.Is(err, ErrTimeout) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case ctx.Err() != nil && !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}
