package chatcore_test

import (
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/parley-chat/parley/chatcore"
)

// FuzzValidateEmoji: whatever a client puts in the path, validation never
// panics, and what it accepts is one grapheme cluster of valid UTF-8 of
// at most MaxEmojiBytes.
func FuzzValidateEmoji(f *testing.F) {
	for _, s := range []string{"👍", "👍🏽", "👨‍👩‍👧", "🇫🇷", "a", "ab", "", "\xff", "e\u0301", "1\ufe0f\u20e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if chatcore.ValidateEmoji(s) != nil {
			return
		}
		if !utf8.ValidString(s) || len(s) > chatcore.MaxEmojiBytes || uniseg.GraphemeClusterCount(s) != 1 {
			t.Errorf("accepted %q", s)
		}
	})
}

func TestTruncateRunes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"héllo", 2, "hé"},
		{"héllo", 10, "héllo"},
		{"👍👍", 1, "👍"},
		{"abc", 0, ""},
	} {
		if got := chatcore.TruncateRunes(tc.in, tc.n); got != tc.want {
			t.Errorf("TruncateRunes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
