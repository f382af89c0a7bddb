package fcm_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/fcm"
	"github.com/parley-chat/parley/chatcore/fcm/fcmtest"
)

func newSender(t *testing.T) (*fcm.Sender, *fcmtest.Server) {
	t.Helper()
	srv := fcmtest.NewServer(t, "parley-test")
	s, err := fcm.New(fcm.Config{ServiceAccountJSON: srv.ServiceAccountJSON(), Endpoint: srv.URL, ChannelID: "messages"})
	if err != nil {
		t.Fatalf("new sender: %v", err)
	}
	return s, srv
}

func device(token string) chatcore.Device {
	return chatcore.Device{ID: "d1", Platform: chatcore.PlatformFCM, Token: token, AppID: "chat.parley.app"}
}

func TestSendMessage(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c-1", Seq: 7, MessageID: "m-7",
		Title: "Alice", Body: "📷 Photo", Badge: 4}
	for range 3 {
		if err := s.Send(context.Background(), device("tok-1"), p); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	if got := srv.TokenGrants(); got != 1 {
		t.Errorf("token grants: got %d, want 1 (the access token is cached)", got)
	}
	want := map[string]any{
		"token":        "tok-1",
		"notification": map[string]any{"title": "Alice", "body": "📷 Photo"},
		"data": map[string]any{"kind": "message", "conversation_id": "c-1", "seq": "7", "message_id": "m-7",
			"unread": "4", "title": "Alice", "body": "📷 Photo"},
		"android": map[string]any{"priority": "HIGH", "collapse_key": "c-1",
			"notification": map[string]any{"channel_id": "messages", "tag": "c-1", "sound": "default", "notification_count": float64(4)}},
	}
	if d := cmp.Diff(want, srv.Sends()[0].Message); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
}

func TestSendUpdateIsDataOnlyNormal(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: "c-1", Seq: 9, Reason: "read"}
	if err := s.Send(context.Background(), device("tok-2"), p); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := map[string]any{
		"token":   "tok-2",
		"data":    map[string]any{"kind": "update", "conversation_id": "c-1", "seq": "9", "unread": "0", "reason": "read"},
		"android": map[string]any{"priority": "NORMAL", "collapse_key": "c-1"},
	}
	if d := cmp.Diff(want, srv.Sends()[0].Message); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
}

// TestSendDeletedUpdate: a deletion is a data-only update with the
// conversation and seq, under a collapse key of its own so it never
// replaces a message alert of the conversation waiting for the device.
func TestSendDeletedUpdate(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: "c-1", Seq: 7, Badge: 2, Reason: chatcore.PushReasonDeleted}
	if err := s.Send(context.Background(), device("tok-3"), p); err != nil {
		t.Fatalf("send: %v", err)
	}
	want := map[string]any{
		"token":   "tok-3",
		"data":    map[string]any{"kind": "update", "conversation_id": "c-1", "seq": "7", "unread": "2", "reason": "deleted"},
		"android": map[string]any{"priority": "NORMAL", "collapse_key": "c-1:deleted"},
	}
	if d := cmp.Diff(want, srv.Sends()[0].Message); d != "" {
		t.Errorf("message (-want +got):\n%s", d)
	}
}

func TestOutcomes(t *testing.T) {
	s, srv := newSender(t)
	srv.Respond("dead", fcmtest.Unregistered)
	srv.Respond("busy", fcmtest.Answer{Status: 429, GRPC: "RESOURCE_EXHAUSTED", ErrorCode: "QUOTA_EXCEEDED", RetryAfter: "7"})
	srv.Respond("down", fcmtest.Unavailable)
	srv.Respond("bad", fcmtest.Answer{Status: 400, GRPC: "INVALID_ARGUMENT", ErrorCode: "INVALID_ARGUMENT"})
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 1}
	for _, tc := range []struct {
		token       string
		dead, retry bool
		after       time.Duration
	}{
		{"ok", false, false, 0},
		{"dead", true, false, 0},
		{"busy", false, true, 7 * time.Second},
		{"down", false, true, 0},
		{"bad", false, false, 0},
	} {
		t.Run(tc.token, func(t *testing.T) {
			err := s.Send(context.Background(), device(tc.token), p)
			if got := errors.Is(err, chatcore.ErrPushTokenDead); got != tc.dead {
				t.Errorf("dead: got %v (%v), want %v", got, err, tc.dead)
			}
			var retry *chatcore.PushRetryError
			if got := errors.As(err, &retry); got != tc.retry {
				t.Errorf("retry: got %v (%v), want %v", got, err, tc.retry)
			} else if got && retry.After != tc.after {
				t.Errorf("retry after: got %v, want %v", retry.After, tc.after)
			}
			if tc.token == "bad" && err == nil {
				t.Error("400: got nil, want a permanent error")
			}
		})
	}
}

func TestRevokedTokenIsRefetched(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 1}
	if err := s.Send(context.Background(), device("t"), p); err != nil {
		t.Fatalf("send: %v", err)
	}
	srv.RevokeTokens()
	var retry *chatcore.PushRetryError
	if err := s.Send(context.Background(), device("t"), p); !errors.As(err, &retry) {
		t.Fatalf("401: got %v, want a retry", err)
	}
	if err := s.Send(context.Background(), device("t"), p); err != nil {
		t.Fatalf("send after 401: %v", err)
	}
	if got := srv.TokenGrants(); got != 2 {
		t.Errorf("token grants: got %d, want 2", got)
	}
}

func TestBadServiceAccount(t *testing.T) {
	for _, js := range []string{"", "{}", `{"project_id":"p"}`, "not json"} {
		if _, err := fcm.New(fcm.Config{ServiceAccountJSON: []byte(js)}); err == nil {
			t.Errorf("%q: got nil error", js)
		}
	}
}

func TestWrongKeyIsPermanent(t *testing.T) {
	srv := fcmtest.NewServer(t, "p1")
	other := fcmtest.NewServer(t, "p1")
	// other's key, srv's token endpoint: the grant is refused.
	s, err := fcm.New(fcm.Config{ServiceAccountJSON: other.ServiceAccountJSON(), TokenURL: srv.URL + "/token", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), device("t"), chatcore.Push{Kind: chatcore.PushMessage})
	var retry *chatcore.PushRetryError
	if err == nil || errors.As(err, &retry) {
		t.Fatalf("refused grant: got %v, want a permanent error", err)
	}
}
