package chatcore_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		in       string
		min, max time.Duration
	}{
		{"", 0, 0},
		{"3", 3 * time.Second, 3 * time.Second},
		{"-1", 0, 0},
		{"soon", 0, 0},
		{time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 58 * time.Minute, time.Hour},
		{time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat), 0, 0},
	} {
		if got := chatcore.RetryAfter(tc.in); got < tc.min || got > tc.max {
			t.Errorf("RetryAfter(%q) = %v, want between %v and %v", tc.in, got, tc.min, tc.max)
		}
	}
}
