package chatcore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
	"github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/internal/testenv"
)

// countingStore counts the membership queries of the send path.
type countingStore struct {
	*sqlite.DB
	membersBlocking atomic.Int64
}

func (s *countingStore) MembersBlocking(ctx context.Context, convID, userID string) ([]string, map[string]bool, error) {
	s.membersBlocking.Add(1)
	return s.DB.MembersBlocking(ctx, convID, userID)
}

func withMemberCacheTTL(d time.Duration) harnessOpt {
	return func(c *chatcore.ServiceConfig) { c.MemberCacheTTL = d }
}

// nextMessageFrame returns c's next message frame, skipping other frames.
func nextMessageFrame(t *testing.T, c *client) frame {
	t.Helper()
	for {
		if f := MustNextFrame(t, c); f.Type == chatcore.FrameMessage {
			return f
		}
	}
}

// TestMemberCache: a send reads the members once per conversation and
// sender until its entry expires or a change drops it; removals and
// blocks take effect at the next send.
func TestMemberCache(t *testing.T) {
	cs := &countingStore{DB: MustOpenStore(t).(*sqlite.DB)}
	h := newHarnessOn(t, cs, inmem.NewBus())
	ctx := context.Background()
	tr := newTrio(t, h)
	cb, cc := h.connect(t, tr.b.ID), h.connect(t, tr.c.ID)
	send := func(from *chatcore.User, body string) (*chatcore.Message, error) {
		t.Helper()
		m, _, err := h.svc.Messages.Send(ctx, from.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: body, Body: body})
		return m, err
	}
	steps := []struct {
		name    string
		before  func()
		from    *chatcore.User
		queries int64 // membership queries so far
	}{
		{"first send reads the members", nil, tr.a, 1},
		{"second send is served from the cache", nil, tr.a, 1},
		{"another sender has an entry of their own", nil, tr.b, 2},
		{"and uses it", nil, tr.b, 2},
		{"an expired entry is read again", func() { h.clock.Advance(chatcore.DefaultMemberCacheTTL) }, tr.a, 3},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		if _, err := send(st.from, st.name); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := cs.membersBlocking.Load(); got != st.queries {
			t.Fatalf("%s: got %d membership queries, want %d", st.name, got, st.queries)
		}
	}
	for range steps {
		nextMessageFrame(t, cc)
	}

	// Carol is removed: the next send reads the members again, she gets
	// nothing more, and her own sends are refused.
	if err := h.svc.Conversations.RemoveMember(ctx, tr.a.ID, tr.group.ID, tr.c.ID); err != nil {
		t.Fatal(err)
	}
	if f := nextMessageFrame(t, cc); f.Message.System == nil || f.Message.System.Event != chatcore.SystemMemberRemoved {
		t.Fatalf("carol: got %+v, want member_removed", f.Message)
	}
	if _, err := send(tr.a, "after removal"); err != nil {
		t.Fatal(err)
	}
	if got := cs.membersBlocking.Load(); got != 4 {
		t.Fatalf("after removal: got %d membership queries, want 4", got)
	}
	_, err := send(tr.c, "removed")
	wantCode(t, err, chatcore.EForbidden)
	expectNoFrame(t, cc, 100*time.Millisecond)

	// Bob blocks alice: her next send in the group reaches him flagged.
	for {
		if f := nextMessageFrame(t, cb); f.Message.Body == "after removal" {
			break
		}
	}
	if err := h.svc.Blocks.Block(ctx, tr.b.ID, tr.a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := send(tr.a, "after block"); err != nil {
		t.Fatal(err)
	}
	if f := nextMessageFrame(t, cb); f.Message.Body != "after block" || !f.Message.BlockedSender {
		t.Fatalf("bob: got %+v, want alice's message flagged blocked_sender", f.Message)
	}
	// In their direct conversation she is refused at once.
	_, _, err = h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "d", Body: "hi"})
	wantCode(t, err, chatcore.EForbidden)
}

// TestMemberCacheOff: a negative TTL reads the members on every send.
func TestMemberCacheOff(t *testing.T) {
	cs := &countingStore{DB: MustOpenStore(t).(*sqlite.DB)}
	h := newHarnessOn(t, cs, inmem.NewBus(), withMemberCacheTTL(-1))
	tr := newTrio(t, h)
	for i := range 3 {
		if _, _, err := h.svc.Messages.Send(context.Background(), tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: string(rune('a' + i)), Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := cs.membersBlocking.Load(); got != 3 {
		t.Fatalf("got %d membership queries, want 3", got)
	}
}

// TestMemberCacheResync: when the bus resubscribed after an outage (the
// hub kicks every socket), invalidations may have been lost with the
// other events: every entry goes.
func TestMemberCacheResync(t *testing.T) {
	cs := &countingStore{DB: MustOpenStore(t).(*sqlite.DB)}
	h := newHarnessOn(t, cs, inmem.NewBus())
	tr := newTrio(t, h)
	for i, kick := range []bool{false, false, true} {
		if kick {
			h.svc.Hub.KickAll()
		}
		if _, _, err := h.svc.Messages.Send(context.Background(), tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: string(rune('a' + i)), Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := cs.membersBlocking.Load(); got != 2 {
		t.Fatalf("got %d membership queries, want 2 (first send, then after the resync)", got)
	}
}

// TestMemberCacheAccountDisabled: disabling an account drops every entry
// (the node that disables at once, the others when its sockets' close
// event arrives).
func TestMemberCacheAccountDisabled(t *testing.T) {
	cs := &countingStore{DB: MustOpenStore(t).(*sqlite.DB)}
	h := newHarnessOn(t, cs, inmem.NewBus())
	ctx := context.Background()
	tr := newTrio(t, h)
	root, err := h.svc.Auth.EnsureAdmin(ctx, "root", "password-root", false)
	if err != nil {
		t.Fatal(err)
	}
	send := func(clientID string) {
		t.Helper()
		if _, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: clientID, Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	send("1")
	send("2")
	if got := cs.membersBlocking.Load(); got != 1 {
		t.Fatalf("before: got %d membership queries, want 1", got)
	}
	if _, err := h.svc.Moderation.DisableUser(ctx, root.ID, tr.c.ID); err != nil {
		t.Fatal(err)
	}
	send("3")
	if got := cs.membersBlocking.Load(); got != 2 {
		t.Fatalf("after disabling carol: got %d membership queries, want 2", got)
	}
}

// TestMemberCacheTwoNodes: two nodes on one Postgres and the real Redis.
// Node B has cached the group's members; a removal on node A makes node B
// refuse the removed member's send at once (the append checks
// membership) and, by the time the removal's frame reaches them, stop
// delivering to them. A block on node A refuses the blocked user's sends
// in their direct conversation at once on both nodes.
func TestMemberCacheTwoNodes(t *testing.T) {
	opt, err := goredis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	var p [6]byte
	rand.Read(p[:])
	prefix := "parley-test-" + hex.EncodeToString(p[:]) + ":"
	store := MustOpenPostgres(t)
	node := func() *chatcore.Services {
		c := goredis.NewClient(opt)
		bus := redis.NewBus(c, redis.BusOptions{Prefix: prefix})
		t.Cleanup(func() { c.Close() })
		t.Cleanup(func() { bus.Close() })
		pres := redis.NewPresence(c, redis.PresenceOptions{Prefix: prefix})
		return MustStartService(t, store, bus, pres, nil, chatcore.SystemClock{}, &counter{}, &counter{})
	}
	a, b := node(), node()
	ctx := context.Background()
	register := func(name string) *chatcore.User {
		res, err := a.Auth.Register(ctx, name, "password-"+name, "")
		if err != nil {
			t.Fatal(err)
		}
		return res.User
	}
	alice, bob, carol := register("alice"), register("bob"), register("carol")
	g, _, err := a.Conversations.CreateConversation(ctx, alice.ID, []string{bob.ID, carol.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	cb, cc := newClient(bob.ID, 64), newClient(carol.ID, 64)
	t.Cleanup(b.Hub.Register(cb))
	t.Cleanup(b.Hub.Register(cc))
	send := func(node *chatcore.Services, from *chatcore.User, convID, body string) (*chatcore.Message, error) {
		m, _, err := node.Messages.Send(ctx, from.ID, chatcore.SendRequest{ConversationID: convID, ClientID: uuid.NewString(), Body: body})
		return m, err
	}
	// until reads c's frames until one with body (or system event) arrives.
	until := func(c *client, match func(f frame) bool) {
		t.Helper()
		for {
			if f := MustNextFrame(t, c); match(f) {
				return
			}
		}
	}
	hasBody := func(body string) func(frame) bool {
		return func(f frame) bool { return f.Message != nil && f.Message.Body == body }
	}

	// Node B caches the group for carol and bob.
	for _, u := range []*chatcore.User{carol, bob, carol, bob} {
		if _, err := send(b, u, g.ID, "warm "+u.Username); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := send(b, bob, g.ID, "before"); err != nil {
		t.Fatal(err)
	}
	until(cc, hasBody("before"))

	if err := a.Conversations.RemoveMember(ctx, alice.ID, g.ID, carol.ID); err != nil {
		t.Fatal(err)
	}
	_, err = send(b, carol, g.ID, "after removal")
	wantCode(t, err, chatcore.EForbidden)
	until(cc, func(f frame) bool {
		return f.Message != nil && f.Message.System != nil && f.Message.System.Event == chatcore.SystemMemberRemoved
	})
	if _, err := send(b, bob, g.ID, "carol is gone"); err != nil {
		t.Fatal(err)
	}
	until(cb, hasBody("carol is gone"))
	select {
	case raw := <-cc.ch:
		t.Fatalf("carol, removed: got frame %s, want none", raw)
	case <-time.After(300 * time.Millisecond):
	}
	msgs, err := a.Messages.Messages(ctx, alice.ID, g.ID, chatcore.MessageQuery{Forward: true, Limit: chatcore.MaxMessagesPage})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.SenderID == carol.ID && m.Kind != chatcore.MessageSystem && m.Body == "after removal" {
			t.Fatalf("carol's send after removal was stored: %s", mustJSON(m))
		}
	}

	// Bob and alice in a direct conversation, cached on both nodes.
	d, _, err := a.Conversations.CreateConversation(ctx, bob.ID, []string{alice.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*chatcore.Services{a, b} {
		if _, err := send(n, bob, d.ID, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Blocks.Block(ctx, alice.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	// Refused at once on both nodes, whatever node B's cache holds: the
	// append checks the block.
	for name, n := range map[string]*chatcore.Services{"A": a, "B": b} {
		_, err = send(n, bob, d.ID, "blocked on "+name)
		wantCode(t, err, chatcore.EForbidden)
		if !strings.Contains(chatcore.ErrorMessage(err), "does not accept messages") {
			t.Errorf("node %s: got %q, want the block's message", name, chatcore.ErrorMessage(err))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
