package chatcore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/chatcore/storetest"
)

// pushStore is a migrated SQLite store for the Pusher's tests.
type pushStore interface {
	chatcore.Store
	chatcore.DeviceStore
}

func openPushStore(tb testing.TB) pushStore {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "push.db"))
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// sent is one push a fakeSender accepted.
type sent struct {
	Device string
	Push   chatcore.Push
}

// fakeSender stands in for a provider: it records pushes and answers with
// scripted errors per device token.
type fakeSender struct {
	mu      sync.Mutex
	got     []sent
	answers map[string][]error // token → errors in turn, then nil
	calls   map[string]int
	delay   time.Duration
}

func newFakeSender() *fakeSender {
	return &fakeSender{answers: map[string][]error{}, calls: map[string]int{}}
}

func (f *fakeSender) Send(_ context.Context, d chatcore.Device, p chatcore.Push) error {
	time.Sleep(f.delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[d.Token]++
	if errs := f.answers[d.Token]; len(errs) > 0 {
		f.answers[d.Token] = errs[1:]
		return errs[0]
	}
	f.got = append(f.got, sent{Device: d.ID, Push: p})
	return nil
}

func (f *fakeSender) sent() []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sent(nil), f.got...)
}

// waitSent waits until the sender holds n pushes, then a little longer to
// catch extra ones.
func (f *fakeSender) waitSent(t *testing.T, n int) []sent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(f.sent()) < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	return f.sent()
}

type pushFixture struct {
	store    pushStore
	presence *inmem.Presence
	sender   *fakeSender
	pusher   *chatcore.Pusher
}

func newPushFixture(t *testing.T, mod func(*chatcore.PusherConfig)) *pushFixture {
	t.Helper()
	f := &pushFixture{store: openPushStore(t), presence: inmem.NewPresence(), sender: newFakeSender()}
	cfg := chatcore.PusherConfig{
		Store: f.store, Presence: f.presence,
		Senders: map[string]chatcore.PushSender{chatcore.PlatformAPNs: f.sender, chatcore.PlatformFCM: f.sender},
		Window:  300 * time.Millisecond, BaseBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := chatcore.NewPusher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.pusher = p
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = p.Close(ctx)
	})
	return f
}

func (f *pushFixture) send(t *testing.T, conv *chatcore.Conversation, from *chatcore.User, body string) *chatcore.Message {
	t.Helper()
	m := storetest.MustSend(t, f.store, conv.ID, from.ID, body, time.Now())
	var recipients []string
	for _, mb := range conv.Members {
		if mb.UserID != from.ID {
			recipients = append(recipients, mb.UserID)
		}
	}
	f.pusher.MessageSent(m, recipients)
	return m
}

// TestPushRouting: the sender gets nothing, a live device nothing, a
// muted member and a member at "none" nothing; everyone else's other
// devices get the alert with the badge of their unread total.
func TestPushRouting(t *testing.T) {
	f := newPushFixture(t, nil)
	ctx := context.Background()
	alice, bob, carol, dave := storetest.MustUser(t, f.store, "alice"), storetest.MustUser(t, f.store, "bob"),
		storetest.MustUser(t, f.store, "carol"), storetest.MustUser(t, f.store, "dave")
	g := storetest.MustGroup(t, f.store, "Team", alice, bob, carol, dave)
	aliceDev := storetest.MustDevice(t, f.store, alice.ID, "sa", chatcore.PlatformAPNs, "a1")
	bobPhone := storetest.MustDevice(t, f.store, bob.ID, "sb1", chatcore.PlatformAPNs, "b1")
	bobTablet := storetest.MustDevice(t, f.store, bob.ID, "sb2", chatcore.PlatformFCM, "b2")
	storetest.MustDevice(t, f.store, carol.ID, "sc", chatcore.PlatformAPNs, "c1")
	storetest.MustDevice(t, f.store, dave.ID, "sd", chatcore.PlatformAPNs, "d1")
	_, _ = f.presence.Connect(ctx, bob.ID, chatcore.DeviceConnID("conn-1", bobPhone.ID))
	until := time.Now().Add(time.Hour)
	if err := f.store.SetNotificationPref(ctx, chatcore.NotificationPref{ConversationID: g.ID, UserID: carol.ID, Level: chatcore.NotifyAll, MutedUntil: &until}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetNotificationPref(ctx, chatcore.NotificationPref{ConversationID: g.ID, UserID: dave.ID, Level: chatcore.NotifyNone}); err != nil {
		t.Fatal(err)
	}
	storetest.MustSend(t, f.store, g.ID, carol.ID, "earlier", time.Now()) // unread for bob too
	m := f.send(t, g, alice, "hello team")

	got := f.sender.waitSent(t, 1)
	want := []sent{{Device: bobTablet.ID, Push: chatcore.Push{
		Kind: chatcore.PushMessage, ConversationID: g.ID, Seq: m.Seq, MessageID: m.ID,
		Title: "User alice · Team", Body: "hello team", Badge: 2,
	}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pushes:\n got %+v\nwant %+v", got, want)
	}
	for _, s := range got {
		if s.Device == aliceDev.ID {
			t.Error("the sender's device was pushed")
		}
	}
}

func TestPushDefaultsByGroupSize(t *testing.T) {
	f := newPushFixture(t, nil)
	users := storetest.MustUsers(t, f.store, "u", chatcore.LargeGroup+1)
	big := storetest.MustGroup(t, f.store, "Big", users...)
	small := storetest.MustGroup(t, f.store, "Small", users[:3]...)
	direct := storetest.MustDirect(t, f.store, users[0], users[1])
	dev := storetest.MustDevice(t, f.store, users[1].ID, "s", chatcore.PlatformAPNs, "t1")

	f.send(t, big, users[0], "to many") // "mentions" by default: nothing yet
	time.Sleep(100 * time.Millisecond)
	f.send(t, small, users[0], "to few")
	got := f.sender.waitSent(t, 1)
	if len(got) != 1 || got[0].Push.ConversationID != small.ID || got[0].Device != dev.ID {
		t.Fatalf("got %+v, want one push for the small group", got)
	}
	time.Sleep(350 * time.Millisecond) // past the coalescing window
	f.send(t, direct, users[0], "just you")
	if got := f.sender.waitSent(t, 2); len(got) != 2 || got[1].Push.ConversationID != direct.ID || got[1].Push.Title != "User u0" {
		t.Fatalf("got %+v, want the direct message pushed second with the sender's name as title", got)
	}
	// Choosing "all" in the big group lets its messages through.
	if err := f.store.SetNotificationPref(context.Background(), chatcore.NotificationPref{ConversationID: big.ID, UserID: users[1].ID, Level: chatcore.NotifyAll}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(350 * time.Millisecond)
	f.send(t, big, users[0], "again")
	if got := f.sender.waitSent(t, 3); len(got) != 3 || got[2].Push.ConversationID != big.ID {
		t.Fatalf("got %+v, want the big group pushed after opting in", got)
	}
}

// TestPushMentionsLevel: at "mentions" (the default in large groups) only
// a message that mentions the member is pushed to them.
func TestPushMentionsLevel(t *testing.T) {
	f := newPushFixture(t, nil)
	users := storetest.MustUsers(t, f.store, "m", chatcore.LargeGroup+1)
	big := storetest.MustGroup(t, f.store, "Big", users...)
	dev := storetest.MustDevice(t, f.store, users[1].ID, "s", chatcore.PlatformAPNs, "t1")
	storetest.MustDevice(t, f.store, users[2].ID, "s", chatcore.PlatformAPNs, "t2")

	f.send(t, big, users[0], "nobody named")
	time.Sleep(350 * time.Millisecond)
	m := storetest.MustSend(t, f.store, big.ID, users[0].ID, "@m1 look", time.Now())
	m.Mentions = []string{users[1].ID}
	f.pusher.MessageSent(m, []string{users[1].ID, users[2].ID})
	f.sender.waitSent(t, 1)
	time.Sleep(350 * time.Millisecond) // nothing else may follow
	got := f.sender.sent()
	if len(got) != 1 || got[0].Device != dev.ID || got[0].Push.Seq != m.Seq {
		t.Fatalf("got %+v, want one push, to the mentioned member's device, for the mentioning message", got)
	}
}

// TestPushCoalescing: a burst of 50 messages in well under the window
// gives two pushes (the first at once, the newest when the window ends).
func TestPushCoalescing(t *testing.T) {
	// A long window: planning 50 messages on SQLite under -race on a loaded
	// machine can itself take a second or more.
	f := newPushFixture(t, func(c *chatcore.PusherConfig) { c.Window = 3 * time.Second })
	a, b := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b")
	d := storetest.MustDirect(t, f.store, a, b)
	storetest.MustDevice(t, f.store, b.ID, "s", chatcore.PlatformAPNs, "t1")
	// Store first (SQLite under -race is slow), then announce the burst
	// within a few milliseconds, as a busy sender's messages arrive.
	msgs := make([]*chatcore.Message, 50)
	for i := range msgs {
		msgs[i] = storetest.MustSend(t, f.store, d.ID, a.ID, fmt.Sprintf("burst %d", i), time.Now())
	}
	last := msgs[len(msgs)-1]
	for _, m := range msgs {
		f.pusher.MessageSent(m, []string{b.ID})
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := f.sender.sent(); len(got) > 0 && got[len(got)-1].Push.Seq == last.Seq {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := f.sender.sent()
	if len(got) < 1 || len(got) > 3 {
		t.Fatalf("got %d pushes for a burst of 50, want 1 to 3", len(got))
	}
	final := got[len(got)-1].Push
	if final.Seq != last.Seq || final.Badge != 50 {
		t.Errorf("last push: seq %d badge %d, want seq %d badge 50", final.Seq, final.Badge, last.Seq)
	}
}

func TestPushDeadTokenPruned(t *testing.T) {
	f := newPushFixture(t, nil)
	a, b := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b")
	d := storetest.MustDirect(t, f.store, a, b)
	storetest.MustDevice(t, f.store, b.ID, "s", chatcore.PlatformAPNs, "dead")
	f.sender.answers["dead"] = []error{fmt.Errorf("apns: 410 Unregistered: %w", chatcore.ErrPushTokenDead)}
	f.send(t, d, a, "hi")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if devs, _ := f.store.Devices(context.Background(), b.ID); len(devs) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if devs, _ := f.store.Devices(context.Background(), b.ID); len(devs) != 0 {
		t.Fatalf("dead device still registered: %+v", devs)
	}
	if n := f.sender.calls["dead"]; n != 1 {
		t.Errorf("attempts on a dead token: got %d, want 1", n)
	}
}

func TestPushRetriesTemporaryFailures(t *testing.T) {
	f := newPushFixture(t, nil)
	a, b := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b")
	d := storetest.MustDirect(t, f.store, a, b)
	storetest.MustDevice(t, f.store, b.ID, "s", chatcore.PlatformFCM, "busy")
	f.sender.answers["busy"] = []error{
		&chatcore.PushRetryError{After: 50 * time.Millisecond, Err: errors.New("429")},
		&chatcore.PushRetryError{Err: errors.New("503")},
	}
	start := time.Now()
	f.send(t, d, a, "hi")
	got := f.sender.waitSent(t, 1)
	if len(got) != 1 {
		t.Fatalf("got %d pushes, want 1 after two retries", len(got))
	}
	if f.sender.calls["busy"] != 3 {
		t.Errorf("attempts: got %d, want 3", f.sender.calls["busy"])
	}
	if el := time.Since(start); el < 50*time.Millisecond {
		t.Errorf("retried after %v, before the provider's Retry-After of 50ms", el)
	}
}

// TestPushReadUpdatesOtherDevices: a read on one device sends a silent
// update to the user's other devices, not to the one that read.
func TestPushReadUpdatesOtherDevices(t *testing.T) {
	f := newPushFixture(t, nil)
	a, b := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b")
	d := storetest.MustDirect(t, f.store, a, b)
	phone := storetest.MustDevice(t, f.store, b.ID, "s1", chatcore.PlatformAPNs, "p")
	tablet := storetest.MustDevice(t, f.store, b.ID, "s2", chatcore.PlatformFCM, "t")
	storetest.MustSend(t, f.store, d.ID, a.ID, "one", time.Now())
	storetest.MustSend(t, f.store, d.ID, a.ID, "two", time.Now())
	if _, _, err := f.store.AdvanceReceipt(context.Background(), d.ID, b.ID, 2, 2); err != nil {
		t.Fatal(err)
	}
	f.pusher.ReadAdvanced(b.ID, d.ID, 2, phone.ID)
	got := f.sender.waitSent(t, 1)
	want := []sent{{Device: tablet.ID, Push: chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: d.ID, Seq: 2, Badge: 0, Reason: "read"}}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("updates:\n got %+v\nwant %+v", got, want)
	}
}

func TestPushHideContent(t *testing.T) {
	f := newPushFixture(t, func(c *chatcore.PusherConfig) { c.HideContent = true })
	a, b := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b")
	d := storetest.MustDirect(t, f.store, a, b)
	storetest.MustDevice(t, f.store, b.ID, "s", chatcore.PlatformAPNs, "t")
	f.send(t, d, a, "secret plans")
	got := f.sender.waitSent(t, 1)
	if len(got) != 1 || got[0].Push.Body != chatcore.HiddenBody || got[0].Push.Title != "" {
		t.Fatalf("got %+v, want body %q and no title", got, chatcore.HiddenBody)
	}
}

// TestPushSlowProviderDoesNotBlock: MessageSent returns at once even when
// the provider takes seconds.
func TestPushSlowProviderDoesNotBlock(t *testing.T) {
	f := newPushFixture(t, func(c *chatcore.PusherConfig) { c.Workers = 1 })
	f.sender.delay = time.Second
	a, b := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b")
	d := storetest.MustDirect(t, f.store, a, b)
	storetest.MustDevice(t, f.store, b.ID, "s", chatcore.PlatformAPNs, "t")
	m := storetest.MustSend(t, f.store, d.ID, a.ID, "x", time.Now())
	start := time.Now()
	for range 100 {
		f.pusher.MessageSent(m, []string{b.ID})
	}
	if el := time.Since(start); el > 200*time.Millisecond {
		t.Errorf("100 MessageSent calls took %v with a slow provider", el)
	}
}

func TestPreview(t *testing.T) {
	long := ""
	for range 200 {
		long += "é"
	}
	for _, tc := range []struct {
		name string
		msg  chatcore.Message
		want string
	}{
		{"text", chatcore.Message{Body: "hi"}, "hi"},
		{"long text", chatcore.Message{Body: long}, long[:139*2] + "…"},
		{"photo", chatcore.Message{Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachImage}}}, "📷 Photo"},
		{"voice", chatcore.Message{Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachVoice, DurationMS: 12_300}}}, "🎤 Voice message (0:12)"},
		{"long voice", chatcore.Message{Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachVoice, DurationMS: 75_000}}}, "🎤 Voice message (1:15)"},
		{"voice processing", chatcore.Message{Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachVoice}}}, "🎤 Voice message"},
		{"video", chatcore.Message{Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachVideo}}}, "🎬 Video"},
		{"file", chatcore.Message{Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachFile}}}, "📎 File"},
		{"caption wins", chatcore.Message{Body: "look", Attachments: []*chatcore.Attachment{{Kind: chatcore.AttachImage}}}, "look"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chatcore.Preview(&tc.msg); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPushDeletedWithdraws: deleting a message sends a silent "deleted"
// update with the conversation and seq to the devices of the other
// members that have no live socket — whatever their notification level —
// with a badge that no longer counts the deleted message; a read update
// in the same window does not hide it.
func TestPushDeletedWithdraws(t *testing.T) {
	f := newPushFixture(t, nil)
	ctx := context.Background()
	a, b, c := storetest.MustUser(t, f.store, "a"), storetest.MustUser(t, f.store, "b"), storetest.MustUser(t, f.store, "c")
	g := storetest.MustGroup(t, f.store, "G", a, b, c)
	storetest.MustDevice(t, f.store, a.ID, "sa", chatcore.PlatformAPNs, "a-phone")
	bPhone := storetest.MustDevice(t, f.store, b.ID, "sb1", chatcore.PlatformAPNs, "b-phone")
	bTablet := storetest.MustDevice(t, f.store, b.ID, "sb2", chatcore.PlatformFCM, "b-tablet")
	cPhone := storetest.MustDevice(t, f.store, c.ID, "sc", chatcore.PlatformFCM, "c-phone")
	_, _ = f.presence.Connect(ctx, b.ID, chatcore.DeviceConnID("conn-b", bTablet.ID))
	if err := f.store.SetNotificationPref(ctx, chatcore.NotificationPref{ConversationID: g.ID, UserID: c.ID, Level: chatcore.NotifyNone}); err != nil {
		t.Fatal(err)
	}
	storetest.MustSend(t, f.store, g.ID, a.ID, "kept", time.Now())
	m := storetest.MustSend(t, f.store, g.ID, a.ID, "oops", time.Now())
	if _, _, err := f.store.AdvanceReceipt(ctx, g.ID, b.ID, 1, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.DeleteMessage(ctx, g.ID, m.Seq, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.pusher.ReadAdvanced(b.ID, g.ID, 1, "")
	f.pusher.MessageDeleted(m, []string{b.ID, c.ID})

	got := f.sender.waitSent(t, 3)
	slices.SortFunc(got, func(x, y sent) int { return strings.Compare(x.Device+x.Push.Reason, y.Device+y.Push.Reason) })
	want := []sent{
		{Device: bPhone.ID, Push: chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: g.ID, Seq: m.Seq, Badge: 0, Reason: chatcore.PushReasonDeleted}},
		{Device: bPhone.ID, Push: chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: g.ID, Seq: 1, Badge: 0, Reason: chatcore.PushReasonRead}},
		{Device: cPhone.ID, Push: chatcore.Push{Kind: chatcore.PushUpdate, ConversationID: g.ID, Seq: m.Seq, Badge: 1, Reason: chatcore.PushReasonDeleted}}, // "kept" only
	}
	slices.SortFunc(want, func(x, y sent) int { return strings.Compare(x.Device+x.Push.Reason, y.Device+y.Push.Reason) })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pushes:\n got %+v\nwant %+v", got, want)
	}
}

// recordingPush is a PushService that records deletions.
type recordingPush struct {
	mu      sync.Mutex
	deleted []string // "seq recipients"
}

func (r *recordingPush) MessageSent(*chatcore.Message, []string)    {}
func (r *recordingPush) ReadAdvanced(string, string, int64, string) {}
func (r *recordingPush) MessageDeleted(m *chatcore.Message, to []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	to = slices.Sorted(slices.Values(to))
	r.deleted = append(r.deleted, fmt.Sprint(m.ConversationID, " ", m.Seq, " ", to))
}

// TestDeleteWakesDevices: deleting a message hands it to the push
// service once, for every member but its sender (a group admin deleting
// someone else's message included), so their devices withdraw it;
// deleting it again sends nothing more.
func TestDeleteWakesDevices(t *testing.T) {
	rec := &recordingPush{}
	h := newHarness(t, func(c *chatcore.ServiceConfig) { c.Push = rec })
	ctx := context.Background()
	tr := newTrio(t, h)
	m, _, err := h.svc.Messages.Send(ctx, tr.b.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "x", Body: "oops"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := h.svc.Edits.Delete(ctx, tr.a.ID, tr.group.ID, m.Seq); err != nil { // alice created the group: its owner
			t.Fatal(err)
		}
	}
	want := []string{fmt.Sprint(tr.group.ID, " ", m.Seq, " ", slices.Sorted(slices.Values([]string{tr.a.ID, tr.c.ID})))}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if fmt.Sprint(rec.deleted) != fmt.Sprint(want) {
		t.Errorf("deletions pushed: got %v, want %v", rec.deleted, want)
	}
}
