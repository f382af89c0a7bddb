package chatcore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestServiceRedisTwoNodes runs two Services ("nodes") on one SQLite
// store and the real Redis: a message sent on node A reaches a socket on
// node B through the Redis bus, presence recorded on one node is seen by
// the other, and only the member with no socket anywhere is notified.
func TestServiceRedisTwoNodes(t *testing.T) {
	url := testenv.Redis(t)
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	var p [6]byte
	rand.Read(p[:])
	prefix := "parley-test-" + hex.EncodeToString(p[:]) + ":" // pub/sub ignores DB numbers

	store := MustOpenStore(t)
	clock := chatcore.SystemClock{}
	notifier := &fakeNotifier{ch: make(chan chatcore.Notification, 10)}
	node := func() *chatcore.Services {
		c := goredis.NewClient(opt)
		bus := redis.NewBus(c, redis.BusOptions{Prefix: prefix})
		t.Cleanup(func() { c.Close() })
		t.Cleanup(func() { bus.Close() })
		pres := redis.NewPresence(c, redis.PresenceOptions{Prefix: prefix})
		return MustStartService(t, store, bus, pres, notifier, clock, &counter{}, &counter{})
	}
	a, b := node(), node()
	ctx := context.Background()

	alice, err := a.Auth.Register(ctx, "alice", "password-alice", "")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.Auth.Register(ctx, "bob", "password-bob", "")
	if err != nil {
		t.Fatal(err)
	}
	carol, err := b.Auth.Register(ctx, "carol", "password-carol", "")
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := a.Conversations.CreateConversation(ctx, alice.User.ID, []string{bob.User.ID, carol.User.ID}, "")
	if err != nil {
		t.Fatal(err)
	}

	// Bob's socket lives on node B; node A learns of it through Redis.
	cb := newClient(bob.User.ID, 64)
	t.Cleanup(b.Hub.Register(cb))
	if err := b.Presence.Connected(ctx, bob.User.ID, "bob-conn"); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Presence.Presence(ctx, alice.User.ID, bob.User.ID); err != nil || st.Status != "online" {
		t.Fatalf("presence of bob seen from node A: got %+v %v, want online", st, err)
	}

	m, _, err := a.Messages.Send(ctx, alice.User.ID, chatcore.SendRequest{ConversationID: g.ID, ClientID: "k1", Body: "across nodes"})
	if err != nil {
		t.Fatal(err)
	}
	f := MustNextFrame(t, cb)
	if f.Message != nil && f.Message.Kind == chatcore.MessageSystem { // conversation_created, may come late over Redis
		f = MustNextFrame(t, cb)
	}
	if f.Type != chatcore.FrameMessage || f.Message == nil || f.Message.ID != m.ID {
		t.Fatalf("bob on node B: got %+v, want message %s", f, m.ID)
	}
	select {
	case n := <-notifier.ch:
		if n.UserID != carol.User.ID {
			t.Errorf("got notification for %s, want only carol (%s)", n.UserID, carol.User.ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for carol, who has no socket")
	}
	select {
	case n := <-notifier.ch:
		t.Errorf("got extra notification %+v", n)
	case <-time.After(100 * time.Millisecond):
	}

	// Typing crosses nodes too.
	if err := a.Typing.Typing(ctx, alice.User.ID, g.ID, "start"); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, cb); f.Type != chatcore.FrameTyping || f.State != "start" {
		t.Errorf("got %+v, want typing start", f)
	}
}
