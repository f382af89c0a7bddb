package chatcore

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzCleanName: whatever a client sends as a display name or title, the
// stored name is valid NFC UTF-8 of at most the limit, with no invisible
// format or control character and no surrounding space; or it is refused
// with EInvalid, never anything else. clientText (device names) never
// fails and keeps the same promises.
func FuzzCleanName(f *testing.F) {
	for _, s := range []string{"Alice", "Jose\u0301", "\u202eexe.gnp", "a\u200bb", " x ", "\xff", "tab\t", strings.Repeat("é", 70), "\u2066\u2069", "e\u200b\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		check := func(what, out string, max int) {
			if !utf8.ValidString(out) || !norm.NFC.IsNormalString(out) && what == "name" || utf8.RuneCountInString(out) > max || strings.TrimSpace(out) != out {
				t.Fatalf("%s %q -> %q: not valid, NFC, trimmed and ≤ %d", what, in, out, max)
			}
			for _, r := range out {
				if IsInvisibleFormat(r) || unicode.IsControl(r) {
					t.Fatalf("%s %q -> %q holds %U", what, in, out, r)
				}
			}
		}
		out, err := cleanName(in, "display name", MaxDisplayNameRunes)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("cleanName(%q): %v, want EInvalid", in, err)
			}
		} else {
			check("name", out, MaxDisplayNameRunes)
		}
		check("client text", clientText(in, MaxDeviceNameRunes), MaxDeviceNameRunes)
	})
}
