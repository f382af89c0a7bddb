package chatcore

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
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

// countingPresence answers Online from a fixed set and counts calls.
type countingPresence struct {
	Presence
	mu     sync.Mutex
	online map[string]bool
	calls  [][]string
}

func (p *countingPresence) Online(_ context.Context, ids []string) (map[string]bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, slices.Clone(ids))
	out := make(map[string]bool)
	for _, id := range ids {
		out[id] = p.online[id]
	}
	return out, nil
}

type recordingNotifier struct {
	mu  sync.Mutex
	got []Notification
}

func (n *recordingNotifier) Notify(_ context.Context, x Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, x)
	return nil
}

func TestNotifyBatch(t *testing.T) {
	pres := &countingPresence{online: map[string]bool{"bob": true}}
	rec := &recordingNotifier{}
	svcs, err := NewServices(ServiceConfig{Store: nopStore{}, Bus: nopBus{}, Presence: pres, Notifier: rec, JWTSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer svcs.Close()
	s := svcs.Messages.(*messageService)
	s.notify(
		notifyJob{base: Notification{ConversationID: "c1", Seq: 1, SenderID: "alice"}, recipients: []string{"bob", "carol"}},
		notifyJob{base: Notification{ConversationID: "c2", Seq: 7, SenderID: "bob"}, recipients: []string{"carol", "dave"}},
	)
	if got, want := pres.calls, [][]string{{"bob", "carol", "dave"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got Online calls %q, want %q (one, deduplicated)", got, want)
	}
	want := []Notification{
		{UserID: "carol", ConversationID: "c1", Seq: 1, SenderID: "alice"},
		{UserID: "carol", ConversationID: "c2", Seq: 7, SenderID: "bob"},
		{UserID: "dave", ConversationID: "c2", Seq: 7, SenderID: "bob"},
	}
	if !reflect.DeepEqual(rec.got, want) {
		t.Errorf("got %+v, want %+v", rec.got, want)
	}

	// After Close, queued work is done synchronously rather than lost.
	svcs.Close()
	rec.got = nil
	s.queueNotify(notifyJob{base: Notification{ConversationID: "c3", Seq: 1, SenderID: "bob"}, recipients: []string{"erin"}})
	if len(rec.got) != 1 || rec.got[0].UserID != "erin" {
		t.Errorf("after Close: got %+v, want erin notified", rec.got)
	}
}
