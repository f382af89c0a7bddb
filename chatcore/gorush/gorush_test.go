package gorush_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/gorush"
)

// fakeGorush answers POST /api/push as gorush documents it, in sync mode:
// 400 for a missing or empty notifications array, else counts, logs with a
// failed-push entry for the scripted tokens, and success "ok".
type fakeGorush struct {
	mu     sync.Mutex
	seen   []map[string]any
	failed map[string]string // token → provider error
	status int
}

func (f *fakeGorush) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/push" {
		http.NotFound(w, r)
		return
	}
	if f.status != 0 {
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(f.status)
		return
	}
	var req struct {
		Notifications *[]map[string]any `json:"notifications"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Notifications == nil {
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "Missing notifications field."})
		return
	}
	if len(*req.Notifications) == 0 {
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": "Notifications field is empty."})
		return
	}
	logs := []map[string]string{}
	count := 0
	f.mu.Lock()
	for _, n := range *req.Notifications {
		f.seen = append(f.seen, n)
		toks, _ := n["tokens"].([]any)
		for _, t := range toks {
			count++
			if e, ok := f.failed[t.(string)]; ok {
				logs = append(logs, map[string]string{"type": "failed-push", "platform": "ios", "token": t.(string), "error": e})
			}
		}
	}
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"counts": count, "logs": logs, "success": "ok"})
}

func newSender(t *testing.T) (*gorush.Sender, *fakeGorush) {
	t.Helper()
	f := &fakeGorush{failed: map[string]string{
		"dead-ios":     "Unregistered",
		"dead-android": "UNREGISTERED",
		"other":        "TopicDisallowed",
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	s, err := gorush.New(gorush.Config{URL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return s, f
}

func TestSendIOSMessage(t *testing.T) {
	s, f := newSender(t)
	d := chatcore.Device{Platform: chatcore.PlatformAPNs, Token: "tok", AppID: "chat.parley.app", Environment: chatcore.EnvSandbox}
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 3, MessageID: "m", Title: "Bob", Body: "hi", Badge: 2}
	if err := s.Send(context.Background(), d, p); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := map[string]any{
		"tokens": []any{"tok"}, "platform": float64(1), "message": "hi", "title": "Bob", "priority": "high",
		"mutable_content": true, "sound": "default", "badge": float64(2), "topic": "chat.parley.app",
		"push_type": "alert", "alert": map[string]any{"title": "Bob", "body": "hi"}, "development": true,
		"data": map[string]any{"kind": "message", "conversation_id": "c", "seq": "3", "message_id": "m", "unread": "2"},
	}
	if d := cmp.Diff(want, f.seen[0]); d != "" {
		t.Errorf("notification (-want +got):\n%s", d)
	}
}

func TestSendAndroidUpdate(t *testing.T) {
	s, f := newSender(t)
	d := chatcore.Device{Platform: chatcore.PlatformFCM, Token: "tok"}
	p := chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: "c", Seq: 5, Reason: "read"}
	if err := s.Send(context.Background(), d, p); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := map[string]any{
		"tokens": []any{"tok"}, "platform": float64(2), "priority": "normal", "content_available": true,
		"collapse_key": "c",
		"data":         map[string]any{"kind": "update", "conversation_id": "c", "seq": "5", "unread": "0", "reason": "read"},
	}
	if d := cmp.Diff(want, f.seen[0]); d != "" {
		t.Errorf("notification (-want +got):\n%s", d)
	}
}

func TestOutcomes(t *testing.T) {
	s, f := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 1}
	for _, tc := range []struct {
		token string
		dead  bool
		fail  bool
	}{
		{"fine", false, false},
		{"dead-ios", true, true},
		{"dead-android", true, true},
		{"other", false, true},
	} {
		err := s.Send(context.Background(), chatcore.Device{Platform: chatcore.PlatformAPNs, Token: tc.token, AppID: "x"}, p)
		if got := errors.Is(err, chatcore.ErrPushTokenDead); got != tc.dead {
			t.Errorf("%s: dead got %v (%v), want %v", tc.token, got, err, tc.dead)
		}
		if (err != nil) != tc.fail {
			t.Errorf("%s: err %v, want failure %v", tc.token, err, tc.fail)
		}
	}
	f.status = 503
	var retry *chatcore.PushRetryError
	if err := s.Send(context.Background(), chatcore.Device{Platform: chatcore.PlatformFCM, Token: "x"}, p); !errors.As(err, &retry) || retry.After != 3e9 {
		t.Errorf("503: got %v, want a retry after 3s", err)
	}
}
