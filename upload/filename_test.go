package upload_test

import (
	"mime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/upload"
)

func TestSanitizeFilename(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"photo.jpg", "photo.jpg"},
		{"  .hidden.  ", "hidden"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\report.pdf`, "report.pdf"},
		{"a\x00b\nc\td.txt", "abcd.txt"},
		{`say "hi".txt`, "say hi.txt"},
		{"invoice\u202efdp.exe", "invoicefdp.exe"},
		{"zero\u200bwidth.png", "zerowidth.png"},
		{"bad\xffutf8.txt", "bad\uFFFDutf8.txt"},
		{"Café – résumé.pdf", "Café – résumé.pdf"},
		{"", ""},
		{"/", ""},
		{strings.Repeat("a", 300) + ".jpeg", strings.Repeat("a", 250) + ".jpeg"},
		{strings.Repeat("é", 200), strings.Repeat("é", 127)},
	}
	for _, tc := range tests {
		if got := upload.SanitizeFilename(tc.in); got != tc.want {
			t.Errorf("SanitizeFilename(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"photo.jpg", "attachment; filename=photo.jpg"},
		{"my photo.jpg", `attachment; filename="my photo.jpg"`},
		{"Café.png", "attachment; filename*=utf-8''Caf%C3%A9.png"},
		{"", "attachment"},
		{"a\r\nSet-Cookie: x=y", `attachment; filename="aSet-Cookie: x=y"`},
	}
	for _, tc := range tests {
		if got := upload.ContentDisposition(tc.in); got != tc.want {
			t.Errorf("ContentDisposition(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"photo.jpg", "../x", "a\x00b", "é", "\u202e", strings.Repeat("é", 200) + ".txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := upload.SanitizeFilename(in)
		if !utf8.ValidString(got) || len(got) > upload.MaxFilenameBytes ||
			strings.ContainsAny(got, "/\\\"\x00\r\n") || got != strings.Trim(got, " .") {
			t.Fatalf("SanitizeFilename(%q) = %q: not a safe name", in, got)
		}
		if upload.SanitizeFilename(got) != got {
			t.Fatalf("SanitizeFilename is not idempotent on %q", got)
		}
		cd := upload.ContentDisposition(in)
		if strings.ContainsAny(cd, "\r\n") {
			t.Fatalf("ContentDisposition(%q) = %q has a line break", in, cd)
		}
		if mt, params, err := mime.ParseMediaType(cd); err != nil || mt != "attachment" || params["filename"] != got {
			t.Fatalf("ContentDisposition(%q) = %q: parses as %q %v %v, want filename %q", in, cd, mt, params, err, got)
		}
	})
}
