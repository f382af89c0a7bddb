package chatcore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// TestBlockRefusesTheBlocked: once alice blocks bob, every way bob had of
// reaching alice directly is refused, while alice keeps her own.
func TestBlockRefusesTheBlocked(t *testing.T) { onBothStores(t, testBlockRefusesTheBlocked) }

func testBlockRefusesTheBlocked(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h)
	a, b, c := tr.a.ID, tr.b.ID, tr.c.ID
	if err := h.svc.Blocks.Block(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	// Blocking twice is a no-op; oneself and strangers are refused.
	if err := h.svc.Blocks.Block(ctx, a, b); err != nil {
		t.Fatalf("second block: %v", err)
	}
	wantCode(t, h.svc.Blocks.Block(ctx, a, a), chatcore.EInvalid)
	wantCode(t, h.svc.Blocks.Block(ctx, a, "nobody"), chatcore.ENotFound)

	_, _, err := h.svc.Conversations.CreateConversation(ctx, b, []string{a}, "")
	wantCode(t, err, chatcore.EForbidden)
	_, _, err = h.svc.Messages.Send(ctx, b, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "x", Body: "hey"})
	wantCode(t, err, chatcore.EForbidden)
	wantCode(t, h.svc.Typing.Typing(ctx, b, tr.direct.ID, chatcore.TypingStart), chatcore.EForbidden)
	_, err = h.svc.Presence.Presence(ctx, b, a)
	wantCode(t, err, chatcore.ENotFound)
	_, _, err = h.svc.Conversations.CreateConversation(ctx, b, []string{a, c}, "trap")
	wantCode(t, err, chatcore.EForbidden)
	g, _, err := h.svc.Conversations.CreateConversation(ctx, b, []string{c, h.MustRegister(t, "dave").User.ID}, "bob's")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Conversations.AddMembers(ctx, b, g.ID, []string{a})
	wantCode(t, err, chatcore.EForbidden)

	// The blocker is not blocked: she may still write to him.
	if _, _, err := h.svc.Messages.Send(ctx, a, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "y", Body: "bye"}); err != nil {
		t.Fatalf("blocker sends: %v", err)
	}
	if _, err := h.svc.Presence.Presence(ctx, a, b); err != nil {
		t.Fatalf("blocker reads presence: %v", err)
	}

	list, err := h.svc.Blocks.Blocks(ctx, a)
	if err != nil || len(list) != 1 || list[0].UserID != b {
		t.Fatalf("blocks: got %+v %v, want bob only", list, err)
	}
	// Unblocking restores everything.
	if err := h.svc.Blocks.Unblock(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Messages.Send(ctx, b, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "z", Body: "hi again"}); err != nil {
		t.Fatalf("after unblock: %v", err)
	}
	if list, _ := h.svc.Blocks.Blocks(ctx, a); len(list) != 0 {
		t.Fatalf("blocks after unblock: %+v", list)
	}
}

// TestBlockedSenderFlagged: in a shared group the blocked user's messages
// still reach the blocker, flagged for her alone (live and history); typing
// and presence do not cross the block in either direction.
func TestBlockedSenderFlagged(t *testing.T) { onBothStores(t, testBlockedSenderFlagged) }

func testBlockedSenderFlagged(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h)
	a, b, c := tr.a.ID, tr.b.ID, tr.c.ID
	ca, cb, cc := h.connect(t, a), h.connect(t, b), h.connect(t, c)
	if err := h.svc.Blocks.Block(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	// Bob is told alice went offline, nothing else.
	if f := MustNextFrame(t, cb); f.Type != chatcore.FramePresence || f.UserID != a || f.Status != chatcore.PresenceOffline {
		t.Fatalf("bob: got %+v, want alice offline", f)
	}

	m, _, err := h.svc.Messages.Send(ctx, b, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k", Body: "psst"})
	if err != nil {
		t.Fatal(err)
	}
	if m.BlockedSender {
		t.Error("the sender's own copy is flagged")
	}
	for _, x := range []struct {
		c    *client
		want bool
	}{{ca, true}, {cb, false}, {cc, false}} {
		f := MustNextFrame(t, x.c)
		if f.Message == nil || f.Message.ID != m.ID || f.Message.BlockedSender != x.want {
			t.Errorf("%s: got %+v, want the message with blocked_sender %v", x.c.user, f.Message, x.want)
		}
	}
	for _, x := range []struct {
		user string
		want bool
	}{{a, true}, {c, false}} {
		msgs, err := h.svc.Messages.Messages(ctx, x.user, tr.group.ID, chatcore.MessageQuery{Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		last := msgs[len(msgs)-1]
		if last.ID != m.ID || last.BlockedSender != x.want {
			t.Errorf("history of %s: got %+v, want blocked_sender %v", x.user, last, x.want)
		}
	}

	// The conversation list's last message and search results too.
	convs, err := h.svc.Conversations.Conversations(ctx, a, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range convs {
		if cv.ID == tr.group.ID && (cv.LastMessage == nil || !cv.LastMessage.BlockedSender) {
			t.Errorf("alice's list: last message %+v, want flagged", cv.LastMessage)
		}
	}
	if cv, err := h.svc.Conversations.Conversation(ctx, c, tr.group.ID); err != nil || cv.LastMessage.BlockedSender {
		t.Errorf("carol's view: got %+v %v, want unflagged", cv, err)
	}
	hits, err := h.svc.Search.Search(ctx, a, chatcore.SearchRequest{Query: "psst"})
	if err != nil || len(hits) != 1 || !hits[0].Message.BlockedSender {
		t.Errorf("alice's search: got %+v %v, want the message flagged", hits, err)
	}

	// Typing: bob's does not reach alice, alice's does not reach bob.
	if err := h.svc.Typing.Typing(ctx, b, tr.group.ID, chatcore.TypingStart); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, cc); f.Type != chatcore.FrameTyping || f.UserID != b {
		t.Fatalf("carol: got %+v, want bob typing", f)
	}
	if err := h.svc.Typing.Typing(ctx, a, tr.group.ID, chatcore.TypingStart); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, cc); f.Type != chatcore.FrameTyping || f.UserID != a {
		t.Fatalf("carol: got %+v, want alice typing", f)
	}
	expectNoFrame(t, ca, 50*time.Millisecond)
	expectNoFrame(t, cb, 50*time.Millisecond)

	// Presence: alice coming online is pushed to carol, not to bob.
	if err := h.svc.Presence.Connected(ctx, a, "sock-a"); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, cc); f.Type != chatcore.FramePresence || f.UserID != a {
		t.Fatalf("carol: got %+v, want alice online", f)
	}
	expectNoFrame(t, cb, 50*time.Millisecond)
}

// TestGroupAddPolicy: nobody refuses every addition, contacts only people
// with a direct conversation; both apply to creating a group too.
func TestGroupAddPolicy(t *testing.T) { onBothStores(t, testGroupAddPolicy) }

func testGroupAddPolicy(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h) // alice owns the group; direct alice–bob
	a, b := tr.a.ID, tr.b.ID
	dave := h.MustRegister(t, "dave").User.ID
	st, err := h.svc.Blocks.SafetySettings(ctx, dave)
	if err != nil || st.GroupAdd != chatcore.GroupAddEveryone {
		t.Fatalf("default: got %+v %v, want everyone", st, err)
	}
	_, err = h.svc.Blocks.SetSafetySettings(ctx, dave, chatcore.SafetySettings{GroupAdd: "friends"})
	wantCode(t, err, chatcore.EInvalid)

	if _, err := h.svc.Blocks.SetSafetySettings(ctx, dave, chatcore.SafetySettings{GroupAdd: chatcore.GroupAddNobody}); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Conversations.AddMembers(ctx, a, tr.group.ID, []string{dave})
	wantCode(t, err, chatcore.EForbidden)
	_, _, err = h.svc.Conversations.CreateConversation(ctx, a, []string{b, dave}, "new")
	wantCode(t, err, chatcore.EForbidden)

	if _, err := h.svc.Blocks.SetSafetySettings(ctx, dave, chatcore.SafetySettings{GroupAdd: chatcore.GroupAddContacts}); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Conversations.AddMembers(ctx, a, tr.group.ID, []string{dave})
	wantCode(t, err, chatcore.EForbidden)
	if _, _, err := h.svc.Conversations.CreateConversation(ctx, dave, []string{a}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Conversations.AddMembers(ctx, a, tr.group.ID, []string{dave}); err != nil {
		t.Fatalf("a contact adds dave: %v", err)
	}
	// A contact dave blocks still cannot.
	if err := h.svc.Blocks.Block(ctx, dave, b); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Conversations.CreateConversation(ctx, dave, []string{b}, ""); err != nil {
		t.Fatal(err) // the blocker may open a direct conversation
	}
	_, _, err = h.svc.Conversations.CreateConversation(ctx, b, []string{dave, a}, "again")
	wantCode(t, err, chatcore.EForbidden)
}

// TestReportKeepsSnapshot: a report keeps the message as it was, even
// once it is deleted; only members may report it; admins page and resolve.
func TestReportKeepsSnapshot(t *testing.T) { onBothStores(t, testReportKeepsSnapshot) }

func testReportKeepsSnapshot(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h)
	a, b := tr.a.ID, tr.b.ID
	root, err := h.svc.Auth.EnsureAdmin(ctx, "root", "password-root", false)
	if err != nil {
		t.Fatal(err)
	}
	stranger := h.MustRegister(t, "mallory").User.ID
	m, _, err := h.svc.Messages.Send(ctx, b, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k", Body: "nasty words"})
	if err != nil {
		t.Fatal(err)
	}
	ref := &chatcore.ReportedMessage{ConversationID: tr.direct.ID, Seq: m.Seq}
	for _, tc := range []struct {
		name   string
		caller string
		req    chatcore.ReportRequest
		code   string
	}{
		{"stranger", stranger, chatcore.ReportRequest{Message: ref, Reason: chatcore.ReasonSpam}, chatcore.ENotFound},
		{"own message", b, chatcore.ReportRequest{Message: ref, Reason: chatcore.ReasonSpam}, chatcore.EInvalid},
		{"no seq", a, chatcore.ReportRequest{Message: &chatcore.ReportedMessage{ConversationID: tr.direct.ID, Seq: 99}, Reason: chatcore.ReasonSpam}, chatcore.ENotFound},
		{"both", a, chatcore.ReportRequest{Message: ref, UserID: b, Reason: chatcore.ReasonSpam}, chatcore.EInvalid},
		{"neither", a, chatcore.ReportRequest{Reason: chatcore.ReasonSpam}, chatcore.EInvalid},
		{"bad reason", a, chatcore.ReportRequest{UserID: b, Reason: "boring"}, chatcore.EInvalid},
		{"long note", a, chatcore.ReportRequest{UserID: b, Reason: chatcore.ReasonOther, Note: string(make([]rune, 1001))}, chatcore.EInvalid},
		{"oneself", a, chatcore.ReportRequest{UserID: a, Reason: chatcore.ReasonOther}, chatcore.EInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.Reports.Report(ctx, tc.caller, tc.req)
			wantCode(t, err, tc.code)
		})
	}
	rep, err := h.svc.Reports.Report(ctx, a, chatcore.ReportRequest{Message: ref, Reason: chatcore.ReasonHarassment, Note: " again "})
	if err != nil {
		t.Fatal(err)
	}
	if rep.TargetUserID != b || rep.Status != chatcore.ReportOpen || rep.Note != "again" {
		t.Fatalf("got %+v", rep)
	}
	if _, _, err := h.store.(chatcore.MessageEditStore).DeleteMessage(ctx, tr.direct.ID, m.Seq, time.Now()); err != nil {
		t.Fatal(err)
	}
	userRep, err := h.svc.Reports.Report(ctx, a, chatcore.ReportRequest{UserID: b, Reason: chatcore.ReasonImpersonation})
	if err != nil {
		t.Fatal(err)
	}

	_, err = h.svc.Reports.Reports(ctx, a, chatcore.ReportQuery{})
	wantCode(t, err, chatcore.EForbidden)
	open, err := h.svc.Reports.Reports(ctx, root.ID, chatcore.ReportQuery{Status: chatcore.ReportOpen})
	if err != nil || len(open) != 2 || open[0].ID != userRep.ID || open[1].ID != rep.ID {
		t.Fatalf("open reports: got %+v %v", open, err)
	}
	var snap chatcore.Message
	if err := json.Unmarshal(open[1].Snapshot, &snap); err != nil || snap.Body != "nasty words" || snap.SenderID != b {
		t.Fatalf("snapshot after deletion: got %s %v, want the original body", open[1].Snapshot, err)
	}
	page, err := h.svc.Reports.Reports(ctx, root.ID, chatcore.ReportQuery{Before: userRep.ID})
	if err != nil || len(page) != 1 || page[0].ID != rep.ID {
		t.Fatalf("page before: got %+v %v", page, err)
	}

	_, err = h.svc.Reports.Resolve(ctx, a, rep.ID, "")
	wantCode(t, err, chatcore.EForbidden)
	done, err := h.svc.Reports.Resolve(ctx, root.ID, rep.ID, "warned bob")
	if err != nil || done.Status != chatcore.ReportResolved || done.ResolvedBy != root.ID || done.ResolvedAt == nil {
		t.Fatalf("resolve: got %+v %v", done, err)
	}
	_, err = h.svc.Reports.Resolve(ctx, root.ID, rep.ID, "")
	wantCode(t, err, chatcore.EConflict)
	_, err = h.svc.Reports.Resolve(ctx, root.ID, "nope", "")
	wantCode(t, err, chatcore.ENotFound)
	resolved, err := h.svc.Reports.Reports(ctx, root.ID, chatcore.ReportQuery{Status: chatcore.ReportResolved})
	if err != nil || len(resolved) != 1 || resolved[0].Resolution != "warned bob" {
		t.Fatalf("resolved: got %+v %v", resolved, err)
	}
}

// closable is a hub client that records CloseFor.
type closable struct {
	*client
	id     string
	reason chan string
}

func (c *closable) PresenceID() string     { return c.id }
func (c *closable) CloseFor(reason string) { c.reason <- reason }

// TestDisableUser: a disabled account's sessions die at once, its sockets
// close, login answers account_disabled; enabling lets it log in again.
func TestDisableUser(t *testing.T) { onBothStores(t, testDisableUser) }

func testDisableUser(t *testing.T, h *harness) {
	ctx := context.Background()
	root, err := h.svc.Auth.EnsureAdmin(ctx, "root", "password-root", false)
	if err != nil {
		t.Fatal(err)
	}
	bob := h.MustRegister(t, "bob")
	sock := &closable{client: newClient(bob.User.ID, 4), id: "s1", reason: make(chan string, 1)}
	t.Cleanup(h.svc.Hub.Register(sock))

	_, err = h.svc.Moderation.DisableUser(ctx, bob.User.ID, root.ID)
	wantCode(t, err, chatcore.EForbidden)
	_, err = h.svc.Moderation.DisableUser(ctx, root.ID, root.ID)
	wantCode(t, err, chatcore.EForbidden)
	u, err := h.svc.Moderation.DisableUser(ctx, root.ID, bob.User.ID)
	if err != nil || u.DisabledAt == nil {
		t.Fatalf("disable: got %+v %v", u, err)
	}
	select {
	case r := <-sock.reason:
		if r != chatcore.CloseAccountDisabled {
			t.Errorf("socket closed for %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket of the disabled account not closed")
	}
	_, _, err = h.svc.Auth.Authenticate(ctx, bob.AccessToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Refresh(ctx, bob.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Login(ctx, "bob", "password-bob")
	wantCode(t, err, chatcore.EAccountDisabled)
	_, err = h.svc.Auth.Login(ctx, "bob", "wrong-password")
	wantCode(t, err, chatcore.EUnauthorized) // the password is checked first

	found, err := h.svc.Moderation.AdminUsers(ctx, root.ID, "BO", 0)
	if err != nil || len(found) != 1 || found[0].DisabledAt == nil || found[0].Role != chatcore.RoleUser {
		t.Fatalf("admin users: got %+v %v", found, err)
	}
	if byID, err := h.svc.Moderation.AdminUsers(ctx, root.ID, bob.User.ID, 0); err != nil || len(byID) != 1 {
		t.Fatalf("by id: got %+v %v", byID, err)
	}
	_, err = h.svc.Moderation.AdminUsers(ctx, bob.User.ID, "", 0)
	wantCode(t, err, chatcore.EForbidden)

	if u, err := h.svc.Moderation.EnableUser(ctx, root.ID, bob.User.ID); err != nil || u.DisabledAt != nil {
		t.Fatalf("enable: got %+v %v", u, err)
	}
	if _, err := h.svc.Auth.Login(ctx, "bob", "password-bob"); err != nil {
		t.Fatalf("login after enable: %v", err)
	}
	_, err = h.svc.Moderation.EnableUser(ctx, root.ID, "nobody")
	wantCode(t, err, chatcore.ENotFound)
}

// TestRolesHidden: other users' roles are left out for non-admins.
func TestRolesHidden(t *testing.T) { onBothStores(t, testRolesHidden) }

func testRolesHidden(t *testing.T, h *harness) {
	ctx := context.Background()
	root, err := h.svc.Auth.EnsureAdmin(ctx, "root", "password-root", false)
	if err != nil {
		t.Fatal(err)
	}
	alice := h.MustRegister(t, "alice").User
	for _, tc := range []struct {
		caller, id string
		want       chatcore.Role
	}{
		{alice.ID, root.ID, ""},
		{alice.ID, alice.ID, chatcore.RoleUser},
		{root.ID, alice.ID, chatcore.RoleUser},
		{root.ID, root.ID, chatcore.RoleAdmin},
	} {
		u, err := h.svc.Users.User(ctx, tc.caller, tc.id)
		if err != nil || u.Role != tc.want {
			t.Errorf("%s sees %s: got role %q %v, want %q", tc.caller, tc.id, u.Role, err, tc.want)
		}
	}
	us, err := h.svc.Users.FindUsers(ctx, alice.ID, "r", 0)
	if err != nil || len(us) != 1 || us[0].Role != "" {
		t.Fatalf("find as alice: got %+v %v, want root without role", us, err)
	}
	if b, _ := json.Marshal(us[0]); json.Valid(b) && string(b) != "" && containsKey(b, "role") {
		t.Errorf("JSON of another user holds role: %s", b)
	}
}

func containsKey(b []byte, key string) bool {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	_, ok := m[key]
	return ok
}

// onBothStores runs fn on SQLite and on Postgres with the Redis bus: the
// safety queries are plain SQL that both must answer alike.
func onBothStores(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newHarness(t)) })
	t.Run("postgres", func(t *testing.T) {
		bus, _ := MustRedisBusPresence(t)
		fn(t, newHarnessOn(t, MustOpenPostgres(t), bus))
	})
}

// TestDisableRace: a refresh or login that slips in between DisableUser
// setting the flag and revoking the sessions still ends refused, its new
// session revoked.
func TestDisableRace(t *testing.T) { onBothStores(t, testDisableRace) }

func testDisableRace(t *testing.T, h *harness) {
	ctx := context.Background()
	bob := h.MustRegister(t, "bob")
	mod := h.store.(chatcore.ModerationStore)
	now := time.Now()
	// The flag alone, as DisableUser leaves it just before revoking.
	if err := mod.SetUserDisabled(ctx, bob.User.ID, &now); err != nil {
		t.Fatal(err)
	}
	_, err := h.svc.Auth.Refresh(ctx, bob.RefreshToken)
	wantCode(t, err, chatcore.EAccountDisabled)
	_, _, err = h.svc.Auth.Authenticate(ctx, bob.AccessToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Login(ctx, "bob", "password-bob")
	wantCode(t, err, chatcore.EAccountDisabled)
	if err := mod.SetUserDisabled(ctx, bob.User.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Auth.Login(ctx, "bob", "password-bob"); err != nil {
		t.Fatalf("login after the flag is cleared: %v", err)
	}
}

// TestBlockStore checks the store methods the services lean on, on both
// stores: the cap, idempotence, both directions, direct peers and the
// send path's one-query membership.
func TestBlockStore(t *testing.T) { onBothStores(t, testBlockStore) }

func testBlockStore(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h)
	a, b, c := tr.a.ID, tr.b.ID, tr.c.ID
	bs := h.store.(chatcore.BlockStore)
	now := time.Now()
	for _, step := range []struct {
		blocker, blocked string
		created          bool
		code             string
	}{
		{a, b, true, ""},
		{a, b, false, ""}, // again: no-op, even at the cap
		{a, c, true, ""},
		{a, "dave", false, chatcore.ETooLarge}, // cap 2 reached
		{b, "nobody", false, chatcore.ENotFound},
		{c, a, true, ""},
	} {
		created, err := bs.PutBlock(ctx, step.blocker, step.blocked, now, 2)
		if chatcore.ErrorCode(err) != step.code || created != step.created {
			t.Fatalf("PutBlock(%s, %s): got %v %v, want created=%v code %q", step.blocker, step.blocked, created, err, step.created, step.code)
		}
	}
	rel, err := bs.BlockRelations(ctx, a)
	if err != nil || !rel.Blocks[b] || !rel.Blocks[c] || !rel.BlockedBy[c] || rel.BlockedBy[b] || len(rel.Blocks) != 2 || len(rel.BlockedBy) != 1 {
		t.Fatalf("relations of alice: got %+v %v", rel, err)
	}
	members, blockers, err := bs.MembersBlocking(ctx, tr.group.ID, a)
	if err != nil || len(members) != 3 || len(blockers) != 1 || !blockers[c] {
		t.Fatalf("members blocking alice in the group: got %v %v %v", members, blockers, err)
	}
	if members, _, err := bs.MembersBlocking(ctx, "no-such", a); err != nil || len(members) != 0 {
		t.Fatalf("unknown conversation: got %v %v, want none", members, err)
	}
	peers, err := bs.DirectPeers(ctx, a, []string{b, c, b})
	if err != nil || len(peers) != 1 || peers[0] != b {
		t.Fatalf("direct peers of alice: got %v %v, want bob", peers, err)
	}
	if gone, err := bs.DeleteBlock(ctx, a, b); err != nil || !gone {
		t.Fatalf("delete: got %v %v", gone, err)
	}
	if gone, err := bs.DeleteBlock(ctx, a, b); err != nil || gone {
		t.Fatalf("delete again: got %v %v", gone, err)
	}
	if err := bs.SetGroupAddPolicy(ctx, "nobody-user", chatcore.GroupAddNobody); chatcore.ErrorCode(err) != chatcore.ENotFound {
		t.Fatalf("policy of an unknown user: got %v", err)
	}
}
