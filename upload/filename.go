package upload

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/parley-chat/parley/chatcore"
)

// ContentDisposition returns an "attachment" Content-Disposition value for
// name, safe for any input: non-ASCII names use RFC 2231 encoding, control
// characters and path separators are dropped. An empty name yields a plain
// "attachment". Adapters use it for downloads.
func ContentDisposition(name string) string {
	name = SanitizeFilename(name)
	if name == "" {
		return "attachment"
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return "attachment"
}

// MaxFilenameBytes is the longest file name Parley keeps.
const MaxFilenameBytes = 255

// SanitizeFilename returns the base name of name made safe to store and to
// put in a header: invalid UTF-8 replaced, control and format characters,
// quotes and path separators removed, surrounding spaces and dots trimmed,
// cut to MaxFilenameBytes at a rune boundary (keeping the extension when it
// is short). It may return "".
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			continue // control characters
		case r == '"' || r == '\u2028' || r == '\u2029':
			continue
		case chatcore.IsInvisibleFormat(r):
			continue // zero-width and bidi overrides that disguise extensions
		}
		b.WriteRune(r)
	}
	name = strings.Trim(b.String(), " .")
	if len(name) <= MaxFilenameBytes {
		return name
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		ext = name[i:]
	}
	stem := name[:MaxFilenameBytes-len(ext)]
	for !utf8.ValidString(stem) {
		stem = stem[:len(stem)-1]
	}
	return strings.TrimRight(stem, " .") + ext
}
