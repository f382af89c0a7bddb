package chatcore

import (
	"strings"
	"testing"
)

func TestSendRequestValidate(t *testing.T) {
	ok := SendRequest{ConversationID: "c1", ClientID: "k1", Body: "hi"}
	tests := []struct {
		name   string
		mutate func(*SendRequest)
		want   string
	}{
		{"ok", func(*SendRequest) {}, ""},
		{"no conversation", func(r *SendRequest) { r.ConversationID = "" }, EInvalid},
		{"no client id", func(r *SendRequest) { r.ClientID = "" }, EInvalid},
		{"client id 64 bytes", func(r *SendRequest) { r.ClientID = strings.Repeat("k", 64) }, ""},
		{"client id 65 bytes", func(r *SendRequest) { r.ClientID = strings.Repeat("k", 65) }, EInvalid},
		{"empty body", func(r *SendRequest) { r.Body = "" }, EInvalid},
		{"empty body with attachment", func(r *SendRequest) { r.Body = ""; r.AttachmentIDs = []string{"a1"} }, ""},
		{"body 16 KiB", func(r *SendRequest) { r.Body = strings.Repeat("b", MaxBodyBytes) }, ""},
		{"body over 16 KiB", func(r *SendRequest) { r.Body = strings.Repeat("b", MaxBodyBytes+1) }, ETooLarge},
		{"body invalid utf8", func(r *SendRequest) { r.Body = "a\xc3" }, EInvalid},
		{"too many attachments", func(r *SendRequest) {
			for i := range MaxAttachments + 1 {
				r.AttachmentIDs = append(r.AttachmentIDs, string(rune('a'+i)))
			}
		}, ETooLarge},
		{"duplicate attachment", func(r *SendRequest) { r.AttachmentIDs = []string{"a", "a"} }, EInvalid},
		{"empty attachment id", func(r *SendRequest) { r.AttachmentIDs = []string{""} }, EInvalid},
		{"negative reply", func(r *SendRequest) { r.ReplyToSeq = -1 }, EInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.mutate(&r)
			if got := ErrorCode(r.validate()); got != tc.want {
				t.Errorf("got code %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUniqueOthers(t *testing.T) {
	got := uniqueOthers([]string{"b", "me", "", "c", "b", "me"}, "me")
	if want := []string{"b", "c"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %q, want %q", got, want)
	}
}
