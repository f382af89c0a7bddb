package chatcore_test

import (
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// FuzzParseCursor: any string either parses to a cursor that encodes back
// to itself, or is EGone; nothing panics.
func FuzzParseCursor(f *testing.F) {
	for _, c := range []chatcore.Cursor{{X: 42, F: 7, Mode: 'r'}, {X: 9, F: 9, Mode: 'p'}, {X: 3, Mode: 'l'}} {
		f.Add(c.String())
	}
	f.Add("")
	f.Add("czEuby4x")
	f.Add("czEuci4xLjI") // floor above x
	f.Fuzz(func(t *testing.T, s string) {
		c, err := chatcore.ParseCursor(s)
		if err != nil {
			if code := chatcore.ErrorCode(err); code != chatcore.EGone {
				t.Fatalf("ParseCursor(%q): code %q, want gone", s, code)
			}
			return
		}
		if c.F > c.X || c.X < 0 || c.F < 0 {
			t.Fatalf("ParseCursor(%q) = %+v: floor above position or negative", s, c)
		}
		if back := c.String(); back != s {
			t.Fatalf("ParseCursor(%q) = %+v, which encodes as %q", s, c, back)
		}
	})
}
