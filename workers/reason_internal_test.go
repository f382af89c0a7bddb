package workers

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/pipeline"
)

func TestTaskErrorIsShortAndUnwraps(t *testing.T) {
	cause := fmt.Errorf("process: decode /tmp/parley-123/original: image: unknown format: %w", pipeline.ErrCorrupt)
	err := &taskError{Reason(cause), fmt.Errorf("%w: %w", cause, asynq.SkipRetry)}
	if got, want := err.Error(), "corrupt: the file could not be decoded as its kind"; got != want {
		t.Errorf("Error: got %q, want %q", got, want)
	}
	if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, pipeline.ErrCorrupt) {
		t.Error("taskError does not unwrap to its cause and SkipRetry")
	}
}

func TestParseLastErr(t *testing.T) {
	for _, tc := range []struct{ in, reason, msg string }{
		{"", "", ""},
		{"storage: " + reasonMessages[ReasonStorage], ReasonStorage, reasonMessages[ReasonStorage]},
		{"gone: " + reasonMessages[ReasonGone], ReasonGone, reasonMessages[ReasonGone]},
		{"asynq: task lease expired", ReasonInterrupted, reasonMessages[ReasonInterrupted]},
		// An older or foreign chain never reaches admins verbatim.
		{"corrupt: process: decode /tmp/parley-9/original: libheif: bad box", ReasonInternal, reasonMessages[ReasonInternal]},
		{"load attachment x: dial tcp 10.0.0.5:5432: connection refused", ReasonInternal, reasonMessages[ReasonInternal]},
	} {
		r, m := parseLastErr(tc.in)
		if r != tc.reason || m != tc.msg {
			t.Errorf("parseLastErr(%q): got %q %q, want %q %q", tc.in, r, m, tc.reason, tc.msg)
		}
	}
}
