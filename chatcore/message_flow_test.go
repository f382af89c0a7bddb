package chatcore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

// trio is three users, a group of them all and a direct between a and b.
type trio struct {
	a, b, c       *chatcore.User
	group, direct *chatcore.Conversation
}

func newTrio(t *testing.T, h *harness) trio {
	t.Helper()
	ctx := context.Background()
	var tr trio
	tr.a = h.MustRegister(t, "alice").User
	tr.b = h.MustRegister(t, "bob").User
	tr.c = h.MustRegister(t, "carol").User
	var err error
	// The group is made in the store, without the conversation_created
	// system message the service writes, so these tests' seqs start at 1.
	g := &chatcore.Conversation{ID: uuid.NewString(), Kind: chatcore.KindGroup, Title: "g", CreatedBy: tr.a.ID, CreatedAt: h.clock.Now().UTC()}
	g.LastActivityAt = g.CreatedAt
	if err = h.store.CreateConversation(ctx, g, []string{tr.a.ID, tr.b.ID, tr.c.ID}); err != nil {
		t.Fatal(err)
	}
	if tr.group, err = h.svc.Conversations.Conversation(ctx, tr.a.ID, g.ID); err != nil {
		t.Fatal(err)
	}
	if tr.direct, _, err = h.svc.Conversations.CreateConversation(ctx, tr.a.ID, []string{tr.b.ID}, ""); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSend(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	outsider := h.MustRegister(t, "mallory").User
	ca, cb, cc := h.connect(t, tr.a.ID), h.connect(t, tr.b.ID), h.connect(t, tr.c.ID)
	cm := h.connect(t, outsider.ID)

	m1, created, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k1", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if !created || m1.Seq != 1 || m1.SenderID != tr.a.ID || m1.Body != "hello" || m1.Attachments == nil {
		t.Fatalf("got created=%v %+v", created, m1)
	}
	// Every member, the sender included (their other devices), gets it.
	for _, c := range []*client{ca, cb, cc} {
		f := MustNextFrame(t, c)
		if f.Type != chatcore.FrameMessage || f.Message == nil || f.Message.ID != m1.ID || f.Message.Seq != 1 {
			t.Errorf("%s: got %+v, want message seq 1", c.user, f)
		}
	}
	expectNoFrame(t, cm, 50*time.Millisecond)

	// A retried send returns the original: same id and seq, no new row.
	again, created, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k1", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if created || again.ID != m1.ID || again.Seq != 1 {
		t.Errorf("retry: got created=%v id=%s seq=%d, want false %s 1", created, again.ID, again.Seq, m1.ID)
	}
	MustNextFrame(t, cb) // re-pushed, in case the first push was lost
	m2, _, err := h.svc.Messages.Send(ctx, tr.b.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k1", Body: "same client id, other sender", ReplyToSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Seq != 2 || m2.ReplyToSeq != 1 {
		t.Errorf("got seq %d reply %d, want 2 1", m2.Seq, m2.ReplyToSeq)
	}
	if got := h.stored.get(); got != 2 {
		t.Errorf("MessageStored called %d times, want 2", got)
	}

	tests := []struct {
		name   string
		caller string
		req    chatcore.SendRequest
		want   string
	}{
		{"non-member", outsider.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "x", Body: "hi"}, chatcore.EForbidden},
		{"non-member replying", outsider.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "x", Body: "hi", ReplyToSeq: 1}, chatcore.EForbidden},
		{"unknown conversation", tr.a.ID, chatcore.SendRequest{ConversationID: "nope", ClientID: "x", Body: "hi"}, chatcore.EForbidden},
		{"reply past last seq", tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "x", Body: "hi", ReplyToSeq: 3}, chatcore.EInvalid},
		{"empty body", tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "x"}, chatcore.EInvalid},
		{"unknown attachment", tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "x", AttachmentIDs: []string{"nope"}}, chatcore.EInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := h.svc.Messages.Send(ctx, tc.caller, tc.req)
			wantCode(t, err, tc.want)
		})
	}
	if got := h.stored.get(); got != 2 {
		t.Errorf("MessageStored called %d times after rejected sends, want 2", got)
	}
}

func TestMessages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	for i := range 5 {
		if _, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: fmt.Sprint(i), Body: fmt.Sprint("m", i)}); err != nil {
			t.Fatal(err)
		}
	}
	seqs := func(ms []*chatcore.Message) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.Seq)
		}
		return out
	}
	tests := []struct {
		name string
		q    chatcore.MessageQuery
		want []int64
	}{
		{"newest", chatcore.MessageQuery{}, []int64{5, 4, 3, 2, 1}},
		{"before", chatcore.MessageQuery{Before: 4, Limit: 2}, []int64{3, 2}},
		{"after", chatcore.MessageQuery{After: 3, Forward: true}, []int64{4, 5}},
		{"after zero", chatcore.MessageQuery{Forward: true, Limit: 2}, []int64{1, 2}},
		{"limit over max", chatcore.MessageQuery{Limit: 10000}, []int64{5, 4, 3, 2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.svc.Messages.Messages(ctx, tr.b.ID, tr.direct.ID, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(seqs(got), tc.want) {
				t.Errorf("got seqs %v, want %v", seqs(got), tc.want)
			}
		})
	}
	_, err := h.svc.Messages.Messages(ctx, tr.c.ID, tr.direct.ID, chatcore.MessageQuery{})
	wantCode(t, err, chatcore.ENotFound)
	_, err = h.svc.Messages.Messages(ctx, tr.a.ID, tr.direct.ID, chatcore.MessageQuery{Limit: -1})
	wantCode(t, err, chatcore.EInvalid)

	conv, err := h.svc.Conversations.Conversation(ctx, tr.b.ID, tr.direct.ID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.LastSeq != 5 || conv.UnreadCount != 5 || conv.LastMessage == nil || conv.LastMessage.Seq != 5 {
		t.Errorf("got last_seq %d unread %d last %+v, want 5 5 seq 5", conv.LastSeq, conv.UnreadCount, conv.LastMessage)
	}
}

func TestReceipts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	ca, cb, cc := h.connect(t, tr.a.ID), h.connect(t, tr.b.ID), h.connect(t, tr.c.ID)
	for i := range 3 {
		if _, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: fmt.Sprint(i), Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*client{ca, cb, cc} {
		for range 3 {
			MustNextFrame(t, c)
		}
	}

	r, err := h.svc.Receipts.MarkDelivered(ctx, tr.b.ID, tr.group.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveredSeq != 2 || r.ReadSeq != 0 || r.UserID != tr.b.ID {
		t.Errorf("got %+v, want delivered 2 read 0", r)
	}
	for _, c := range []*client{ca, cc} {
		f := MustNextFrame(t, c)
		if f.Type != chatcore.FrameReceipt || f.UserID != tr.b.ID || f.DeliveredSeq != 2 || f.ConversationID != tr.group.ID {
			t.Errorf("%s: got %+v, want bob's receipt delivered 2", c.user, f)
		}
	}
	expectNoFrame(t, cb, 50*time.Millisecond) // never to the one who moved it

	// Cumulative: a lower or equal seq changes nothing and pushes nothing.
	r, err = h.svc.Receipts.MarkDelivered(ctx, tr.b.ID, tr.group.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveredSeq != 2 {
		t.Errorf("got delivered %d after a lower mark, want 2", r.DeliveredSeq)
	}
	expectNoFrame(t, ca, 50*time.Millisecond)

	// Read raises delivered; beyond the last seq is clamped.
	r, err = h.svc.Receipts.MarkRead(ctx, tr.b.ID, tr.group.ID, 99)
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveredSeq != 3 || r.ReadSeq != 3 {
		t.Errorf("got %+v, want delivered 3 read 3", r)
	}
	if f := MustNextFrame(t, ca); f.ReadSeq != 3 || f.DeliveredSeq != 3 {
		t.Errorf("got %+v, want read 3", f)
	}
	conv, err := h.svc.Conversations.Conversation(ctx, tr.b.ID, tr.group.ID)
	if err != nil {
		t.Fatal(err)
	}
	if conv.UnreadCount != 0 {
		t.Errorf("got unread %d after reading all, want 0", conv.UnreadCount)
	}

	outsider := h.MustRegister(t, "mallory").User
	_, err = h.svc.Receipts.MarkRead(ctx, outsider.ID, tr.group.ID, 1)
	wantCode(t, err, chatcore.ENotFound)
	_, err = h.svc.Receipts.MarkRead(ctx, tr.b.ID, tr.group.ID, -1)
	wantCode(t, err, chatcore.EInvalid)
}

func TestTyping(t *testing.T) {
	const ttl = 150 * time.Millisecond
	h := newHarness(t, withTypingTTL(ttl))
	ctx := context.Background()
	tr := newTrio(t, h)
	ca, cb, cc := h.connect(t, tr.a.ID), h.connect(t, tr.b.ID), h.connect(t, tr.c.ID)

	start := time.Now()
	if err := h.svc.Typing.Typing(ctx, tr.a.ID, tr.direct.ID, "start"); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, cb); f.Type != chatcore.FrameTyping || f.State != "start" || f.UserID != tr.a.ID || f.ConversationID != tr.direct.ID {
		t.Errorf("got %+v, want alice typing start", f)
	}
	// Not stored, not renewed: it turns into a stop by itself.
	if f := MustNextFrame(t, cb); f.State != "stop" || f.UserID != tr.a.ID {
		t.Errorf("got %+v, want alice typing stop", f)
	}
	if el := time.Since(start); el < ttl {
		t.Errorf("stop after %v, want ≥ %v", el, ttl)
	}
	expectNoFrame(t, ca, 20*time.Millisecond) // never to the typist
	expectNoFrame(t, cc, 0)                   // nor to non-members

	// An explicit stop is pushed at once and cancels the timer.
	if err := h.svc.Typing.Typing(ctx, tr.a.ID, tr.group.ID, "start"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Typing.Typing(ctx, tr.a.ID, tr.group.ID, "stop"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{cb, cc} {
		if f := MustNextFrame(t, c); f.State != "start" {
			t.Errorf("%s: got %+v, want start", c.user, f)
		}
		if f := MustNextFrame(t, c); f.State != "stop" {
			t.Errorf("%s: got %+v, want stop", c.user, f)
		}
	}
	expectNoFrame(t, cb, 2*ttl)
	if n := chatcore.ActiveTypingForTest(h.svc); n != 0 {
		t.Errorf("got %d typing timers, want 0", n)
	}

	outsider := h.MustRegister(t, "mallory").User
	wantCode(t, h.svc.Typing.Typing(ctx, outsider.ID, tr.group.ID, "start"), chatcore.EForbidden)
	wantCode(t, h.svc.Typing.Typing(ctx, tr.a.ID, tr.group.ID, "dancing"), chatcore.EInvalid)
}

func TestPresencePushes(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h) // alice and bob share two conversations, carol one
	loner := h.MustRegister(t, "loner").User
	cb, cc, cl := h.connect(t, tr.b.ID), h.connect(t, tr.c.ID), h.connect(t, loner.ID)

	if err := h.svc.Presence.Connected(ctx, tr.a.ID, "conn-1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{cb, cc} {
		if f := MustNextFrame(t, c); f.Type != chatcore.FramePresence || f.UserID != tr.a.ID || f.Status != "online" {
			t.Errorf("%s: got %+v, want alice online", c.user, f)
		}
	}
	expectNoFrame(t, cl, 50*time.Millisecond) // shares nothing with alice

	// A second socket is not news; closing one of two is not either.
	if err := h.svc.Presence.Connected(ctx, tr.a.ID, "conn-2"); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Presence.Disconnected(ctx, tr.a.ID, "conn-1"); err != nil {
		t.Fatal(err)
	}
	expectNoFrame(t, cb, 50*time.Millisecond)
	st, err := h.svc.Presence.Presence(ctx, tr.b.ID, tr.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "online" {
		t.Errorf("got %+v, want online", st)
	}

	h.clock.Advance(time.Minute)
	if err := h.svc.Presence.Disconnected(ctx, tr.a.ID, "conn-2"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{cb, cc} {
		f := MustNextFrame(t, c)
		if f.Status != "offline" || !f.LastSeen.Equal(h.clock.Now()) {
			t.Errorf("%s: got %+v, want offline last_seen %v", c.user, f, h.clock.Now())
		}
	}
	st, err = h.svc.Presence.Presence(ctx, tr.b.ID, tr.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != "offline" || !st.LastSeen.Equal(h.clock.Now()) {
		t.Errorf("got %+v, want offline at %v", st, h.clock.Now())
	}
	_, err = h.svc.Presence.Presence(ctx, tr.b.ID, "nobody")
	wantCode(t, err, chatcore.ENotFound)
}

func TestNotifyOfflineOnly(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	// Bob has a socket; alice (the sender) and carol have none.
	if err := h.svc.Presence.Connected(ctx, tr.b.ID, "b1"); err != nil {
		t.Fatal(err)
	}
	m, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k", Body: "wake up"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-h.notifier.ch:
		want := chatcore.Notification{UserID: tr.c.ID, ConversationID: tr.group.ID, Seq: m.Seq, SenderID: tr.a.ID}
		if n != want {
			t.Errorf("got %+v, want %+v", n, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for the offline member")
	}
	// A retry is not a new message: nobody is woken again.
	if _, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k", Body: "wake up"}); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-h.notifier.ch:
		t.Errorf("got notification %+v, want only carol's, once", n)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestSlowConsumerKicked(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	stuck := newClient(tr.b.ID, 1) // takes one frame and never reads
	t.Cleanup(h.svc.Hub.Register(stuck))
	fine := newClient(tr.c.ID, 64)
	t.Cleanup(h.svc.Hub.Register(fine))

	for i := range 5 {
		if _, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: fmt.Sprint(i), Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if f := MustNextFrame(t, fine); f.Message == nil || f.Message.Seq != int64(i+1) {
			t.Fatalf("healthy client: got %+v, want seq %d", f, i+1)
		}
	}
	select {
	case <-stuck.kicked:
	case <-time.After(5 * time.Second):
		t.Fatal("slow consumer was not kicked")
	}
	if got := h.slow.get(); got != 1 {
		t.Errorf("SlowConsumer hook called %d times, want 1", got)
	}
}

func TestSendWithAttachment(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	cb := h.connect(t, tr.b.ID)
	now := h.clock.Now()
	att := &chatcore.Attachment{
		ID: "att-1", UploaderID: tr.a.ID, Kind: chatcore.AttachImage, Status: chatcore.StatusPending,
		ContentType: "image/jpeg", Size: 1234, Filename: "cat.jpg", ObjectKey: "u/att-1",
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	if err := h.store.CreateAttachment(ctx, att); err != nil {
		t.Fatal(err)
	}
	// Still pending (bytes not confirmed): it cannot be sent.
	_, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k0", AttachmentIDs: []string{"att-1"}})
	wantCode(t, err, chatcore.EInvalid)

	att.Status = chatcore.StatusProcessing
	if err := h.store.UpdateAttachment(ctx, att); err != nil {
		t.Fatal(err)
	}
	// Someone else's attachment cannot be sent either.
	_, _, err = h.svc.Messages.Send(ctx, tr.b.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k1", AttachmentIDs: []string{"att-1"}})
	wantCode(t, err, chatcore.EInvalid)

	m, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k2", AttachmentIDs: []string{"att-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].ID != "att-1" || m.Body != "" {
		t.Fatalf("got %+v, want one attachment and no body", m)
	}
	f := MustNextFrame(t, cb)
	if f.Message == nil || len(f.Message.Attachments) != 1 || f.Message.Attachments[0].Status != chatcore.StatusProcessing {
		t.Fatalf("got %+v, want the message with its attachment processing", f.Message)
	}
}

func TestConcurrentSendsGaplessAndDeduplicated(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	const senders, each = 4, 10
	var wg sync.WaitGroup
	type result struct {
		seq     int64
		id      string
		created bool
	}
	results := make(chan result, senders*each*2)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user := []*chatcore.User{tr.a, tr.b, tr.c}[s%3]
			for i := range each {
				// Every message is sent twice, as a client retrying after a
				// lost ack would; the duplicates race the originals.
				req := chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: fmt.Sprintf("s%d-%d", s, i), Body: "x"}
				var pair sync.WaitGroup
				for range 2 {
					pair.Go(func() {
						m, created, err := h.svc.Messages.Send(ctx, user.ID, req)
						if err != nil {
							t.Error(err)
							return
						}
						results <- result{m.Seq, m.ID, created}
					})
				}
				pair.Wait()
			}
		}()
	}
	wg.Wait()
	close(results)
	bySeq := map[int64]string{}
	createdN := 0
	for r := range results {
		if id, ok := bySeq[r.seq]; ok && id != r.id {
			t.Fatalf("seq %d given to two messages", r.seq)
		}
		bySeq[r.seq] = r.id
		if r.created {
			createdN++
		}
	}
	if createdN != senders*each {
		t.Errorf("got %d created, want %d", createdN, senders*each)
	}
	for seq := int64(1); seq <= senders*each; seq++ {
		if _, ok := bySeq[seq]; !ok {
			t.Errorf("seq %d missing: not gapless", seq)
		}
	}
	if got := h.stored.get(); got != senders*each {
		t.Errorf("MessageStored called %d times, want %d", got, senders*each)
	}
}

// TestNotifySkipsDeletedAccounts: a deleted account stays a member of its
// groups (its old messages keep their sender), but sends there never wake
// it: the deployment's push webhook does not hear of it again.
func TestNotifySkipsDeletedAccounts(t *testing.T) { onBothStores(t, testNotifySkipsDeletedAccounts) }

func testNotifySkipsDeletedAccounts(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h)
	as := mustAccounts(t, h, chatcore.AccountConfig{})
	if _, err := as.DeleteSelf(ctx, tr.c.ID, "password-carol"); err != nil {
		t.Fatal(err)
	}
	m, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k", Body: "anyone?"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-h.notifier.ch:
		want := chatcore.Notification{UserID: tr.b.ID, ConversationID: tr.group.ID, Seq: m.Seq, SenderID: tr.a.ID}
		if n != want {
			t.Errorf("got %+v, want %+v (bob's, not the deleted carol's)", n, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no notification for bob, who is offline")
	}
	select {
	case n := <-h.notifier.ch:
		t.Errorf("got notification %+v, want bob's only", n)
	case <-time.After(200 * time.Millisecond):
	}
}
