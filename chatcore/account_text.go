package chatcore

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// IsInvisibleFormat reports whether r is a zero-width character or a
// bidirectional override, embedding or isolate: characters that change
// how the text around them looks without showing themselves, so a name
// holding them can impersonate another (or, in a file name, disguise its
// extension). File names (upload.SanitizeFilename), display names and
// conversation titles all drop them through this one test.
func IsInvisibleFormat(r rune) bool {
	switch {
	case r >= 0x200b && r <= 0x200f, // zero-width space, non-joiner, joiner; LRM, RLM
		r >= 0x202a && r <= 0x202e, // bidi embeddings and overrides
		r >= 0x2060 && r <= 0x2069, // word joiner, invisible operators, bidi isolates
		r == 0x061c,                // Arabic letter mark
		r == 0xfeff:                // zero-width no-break space (BOM)
		return true
	}
	return false
}

// cleanName is how display names and conversation titles are stored:
// Unicode NFC, zero-width and bidi control characters removed (see
// IsInvisibleFormat), surrounding space trimmed. It refuses invalid UTF-8,
// other control characters, and more than max characters; what names the
// field in the messages ("display name", "title").
func cleanName(s, what string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(EInvalid, "%s must be valid UTF-8", what)
	}
	// Bound the work before normalising: NFC may grow a string a little,
	// never shrink a huge one below the limit by much.
	if len(s) > 4*max*utf8.UTFMax {
		return "", Errorf(EInvalid, "%s must be at most %d characters", what, max)
	}
	// Strip first, then compose: removing a zero-width character may bring
	// a letter and its combining mark together.
	s = norm.NFC.String(strings.Map(func(r rune) rune {
		if IsInvisibleFormat(r) {
			return -1
		}
		return r
	}, s))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		return "", Errorf(EInvalid, "%s must be at most %d characters", what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", Errorf(EInvalid, "%s must not hold control characters", what)
		}
	}
	return s, nil
}
