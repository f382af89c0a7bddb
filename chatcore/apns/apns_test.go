package apns_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/apns"
	"github.com/parley-chat/parley/chatcore/apns/apnstest"
)

const (
	keyID  = "ABC123DEFG"
	teamID = "DEF123GHIJ"
	topic  = "chat.parley.app"
)

func newSender(t *testing.T) (*apns.Sender, *apnstest.Server) {
	t.Helper()
	key, p8 := apnstest.NewKey(t)
	srv := apnstest.NewServer(t, &key.PublicKey, keyID, teamID)
	s, err := apns.New(apns.Config{KeyPEM: p8, KeyID: keyID, TeamID: teamID, Host: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatalf("new sender: %v", err)
	}
	return s, srv
}

func device(token string) chatcore.Device {
	return chatcore.Device{ID: "d1", Platform: chatcore.PlatformAPNs, Token: token, AppID: topic, Environment: chatcore.EnvProduction}
}

func TestSendMessage(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c-1", Seq: 7, MessageID: "m-7",
		Title: "Alice", Body: "hello there", Badge: 3}
	if err := s.Send(context.Background(), device("aa01"), p); err != nil {
		t.Fatalf("send: %v", err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Status != 200 {
		t.Fatalf("server answered %d %s", r.Status, r.Reason)
	}
	gotHeaders := []string{r.Token, r.Topic, r.PushType, r.Priority, r.CollapseID, r.KeyID, r.TeamID}
	wantHeaders := []string{"aa01", topic, "alert", "10", "c-1", keyID, teamID}
	if d := cmp.Diff(wantHeaders, gotHeaders); d != "" {
		t.Errorf("headers (-want +got):\n%s", d)
	}
	if age := time.Since(r.IssuedAt); age < -time.Minute || age > time.Minute {
		t.Errorf("iat %v is not now", r.IssuedAt)
	}
	want := map[string]any{
		"aps": map[string]any{
			"alert":           map[string]any{"title": "Alice", "body": "hello there"},
			"badge":           float64(3),
			"sound":           "default",
			"thread-id":       "c-1",
			"mutable-content": float64(1),
		},
		"conversation_id": "c-1", "seq": float64(7), "message_id": "m-7",
	}
	if d := cmp.Diff(want, r.Payload()); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
}

func TestSendUpdateIsBackground(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: "c-1", Seq: 9, Badge: 0, Reason: "read"}
	d := device("bb02")
	d.Environment = chatcore.EnvSandbox
	if err := s.Send(context.Background(), d, p); err != nil {
		t.Fatalf("send: %v", err)
	}
	r := srv.Requests()[0]
	if r.PushType != "background" || r.Priority != "5" {
		t.Errorf("push type %q priority %q, want background 5", r.PushType, r.Priority)
	}
	want := map[string]any{
		"aps":             map[string]any{"content-available": float64(1)},
		"conversation_id": "c-1", "seq": float64(9), "unread": float64(0), "reason": "read",
	}
	if d := cmp.Diff(want, r.Payload()); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
}

// TestSendDeletedUpdate: a deletion is a background push carrying the
// conversation, seq and reason, under a collapse id of its own (not the
// conversation's, which the message alerts use).
func TestSendDeletedUpdate(t *testing.T) {
	s, srv := newSender(t)
	conv := "0191f7c2-6a3e-7c4b-9a51-2f0d5e8b7c11"
	p := chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: conv, Seq: 7, Badge: 2, Reason: chatcore.PushReasonDeleted}
	if err := s.Send(context.Background(), device("bb03"), p); err != nil {
		t.Fatalf("send: %v", err)
	}
	r := srv.Requests()[0]
	if r.PushType != "background" || r.Priority != "5" || r.CollapseID != conv+":deleted" {
		t.Errorf("push type %q priority %q collapse id %q, want background 5 %s:deleted", r.PushType, r.Priority, r.CollapseID, conv)
	}
	want := map[string]any{
		"aps":             map[string]any{"content-available": float64(1)},
		"conversation_id": conv, "seq": float64(7), "unread": float64(2), "reason": "deleted",
	}
	if d := cmp.Diff(want, r.Payload()); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
}

func TestOutcomes(t *testing.T) {
	s, srv := newSender(t)
	srv.Respond("dead01", apnstest.Answer{Status: 410, Reason: "Unregistered"})
	srv.Respond("bad002", apnstest.Answer{Status: 400, Reason: "BadDeviceToken"})
	srv.Respond("b00003", apnstest.Answer{Status: 429, Reason: "TooManyRequests"})
	srv.Respond("d00004", apnstest.Answer{Status: 503, Reason: "ServiceUnavailable"})
	srv.Respond("b00005", apnstest.Answer{Status: 413, Reason: "PayloadTooLarge"})
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 1, Title: "t", Body: "b"}
	for _, tc := range []struct {
		token       string
		dead, retry bool
	}{
		{"a00000", false, false},
		{"dead01", true, false},
		{"bad002", true, false},
		{"b00003", false, true},
		{"d00004", false, true},
		{"b00005", false, false},
	} {
		t.Run(tc.token, func(t *testing.T) {
			err := s.Send(context.Background(), device(tc.token), p)
			var retry *chatcore.PushRetryError
			if got := errors.Is(err, chatcore.ErrPushTokenDead); got != tc.dead {
				t.Errorf("dead: got %v (%v), want %v", got, err, tc.dead)
			}
			if got := errors.As(err, &retry); got != tc.retry {
				t.Errorf("retry: got %v (%v), want %v", got, err, tc.retry)
			}
			if tc.token == "b00005" && err == nil {
				t.Errorf("413: got nil error, want a permanent one")
			}
		})
	}
}

// A JWT older than Apple's hour is refused; the sender regenerates its
// token after 50 minutes, so it never sends one that old.
func TestTokenRefreshedWithinWindow(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 1}
	for range 3 {
		if err := s.Send(context.Background(), device("cc03"), p); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	reqs := srv.Requests()
	if reqs[0].Bearer != reqs[2].Bearer {
		t.Errorf("token regenerated between quick sends")
	}
	apns.AgeToken(s, 51*time.Minute)
	if err := s.Send(context.Background(), device("cc03"), p); err != nil {
		t.Fatalf("send with an aged token: %v", err)
	}
	last := srv.Requests()[3]
	if last.Bearer == reqs[0].Bearer {
		t.Errorf("token older than 50 min was not regenerated")
	}
}

func TestExpiredProviderTokenRegenerates(t *testing.T) {
	s, srv := newSender(t)
	p := chatcore.Push{Kind: chatcore.PushMessage, ConversationID: "c", Seq: 1}
	if err := s.Send(context.Background(), device("dd04"), p); err != nil {
		t.Fatalf("send: %v", err)
	}
	apns.AgeToken(s, 61*time.Minute-50*time.Minute) // 11 min: still reused
	srv.Respond("dd04", apnstest.Answer{Status: 403, Reason: "ExpiredProviderToken", Times: 1})
	var retry *chatcore.PushRetryError
	if err := s.Send(context.Background(), device("dd04"), p); !errors.As(err, &retry) {
		t.Fatalf("403 ExpiredProviderToken: got %v, want a retry", err)
	}
	if err := s.Send(context.Background(), device("dd04"), p); err != nil {
		t.Fatalf("send after regeneration: %v", err)
	}
	reqs := srv.Requests()
	if reqs[1].Bearer != reqs[0].Bearer {
		t.Errorf("token regenerated before APNs asked")
	}
	if reqs[2].Bearer == reqs[1].Bearer {
		t.Errorf("token not regenerated after ExpiredProviderToken")
	}
}

func TestNoTopic(t *testing.T) {
	s, _ := newSender(t)
	d := device("ee05")
	d.AppID = ""
	if err := s.Send(context.Background(), d, chatcore.Push{Kind: chatcore.PushMessage}); err == nil {
		t.Fatal("send without a topic: got nil, want an error")
	}
}

func TestBadKey(t *testing.T) {
	if _, err := apns.New(apns.Config{KeyPEM: []byte("not a key"), KeyID: keyID, TeamID: teamID}); err == nil {
		t.Fatal("bad .p8: got nil error")
	}
}
