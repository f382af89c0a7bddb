package chatcore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// syncLines renders a sync reply's changes for comparison.
func syncLines(res *chatcore.SyncResult) []string {
	out := []string{}
	for _, c := range res.Changes {
		switch c.Type {
		case chatcore.ChangeMessage:
			out = append(out, "message "+c.Message.Body)
		case chatcore.ChangeReceipt:
			out = append(out, fmt.Sprintf("receipt %d/%d", c.Receipt.DeliveredSeq, c.Receipt.ReadSeq))
		default:
			out = append(out, c.Type)
		}
	}
	return out
}

func wantLines(t *testing.T, label string, res *chatcore.SyncResult, want ...string) {
	t.Helper()
	if got := syncLines(res); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: got %q, want %q", label, got, want)
	}
}

// TestSyncService: a fresh device gets its conversations and a cursor;
// resuming from it gives exactly what happened after; pages never repeat
// and end; a live frame's cursor resumes a little before itself (the
// commit lag) and misses nothing; bad, foreign and pruned cursors are gone.
func TestSyncService(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "alice").User
	b := h.MustRegister(t, "bob").User
	conv, _, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	send := func(body string) *chatcore.Message {
		t.Helper()
		m, _, err := h.svc.Messages.Send(ctx, a.ID, chatcore.SendRequest{ConversationID: conv.ID, ClientID: body, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	sync := func(cursor string, limit int) *chatcore.SyncResult {
		t.Helper()
		res, err := h.svc.Sync.Sync(ctx, b.ID, cursor, limit)
		if err != nil {
			t.Fatalf("sync %q: %v", cursor, err)
		}
		return res
	}
	early := sync("", 0) // a device that syncs once and goes away
	send("one")
	// Marks as a node would have left them: the counter has not moved for
	// the last two minutes, so nothing before now can still be committing.
	now := h.clock.Now()
	for _, d := range []time.Duration{2 * time.Minute, time.Minute} {
		if err := h.store.MarkSync(ctx, now.Add(-d)); err != nil {
			t.Fatal(err)
		}
	}

	fresh := sync("", 0)
	if len(fresh.Conversations) != 1 || fresh.Conversations[0].ID != conv.ID || fresh.Conversations[0].LastMessage.Body != "one" ||
		fresh.Conversations[0].UnreadCount != 1 || len(fresh.Changes) != 0 || fresh.HasMore {
		t.Fatalf("fresh device: got %+v, want the conversation with its last message and one unread", fresh)
	}
	bob := h.connect(t, b.ID)
	send("two")
	three := send("three")
	if f := MustNextFrame(t, bob); f.Type != chatcore.FrameMessage || f.Cursor == "" {
		t.Fatalf("frame %+v: want a message frame with a cursor", f)
	}
	if f := MustNextFrame(t, bob); f.Cursor != chatcore.LiveCursor(three.ChangeID) {
		t.Errorf("frame cursor %q, want the cursor of change %d", f.Cursor, three.ChangeID)
	}
	if _, err := h.svc.Receipts.MarkRead(ctx, b.ID, conv.ID, 3); err != nil {
		t.Fatal(err)
	}

	after := sync(fresh.Cursor, 0)
	wantLines(t, "since the fresh cursor", after, "message two", "message three", "receipt 3/3")
	if after.HasMore {
		t.Error("has_more after the whole feed")
	}

	cursor, pages := fresh.Cursor, []string{}
	for i := 0; ; i++ {
		if i == 5 {
			t.Fatal("paging does not end")
		}
		res := sync(cursor, 1)
		pages = append(pages, syncLines(res)...)
		cursor = res.Cursor
		if !res.HasMore {
			break
		}
	}
	if fmt.Sprint(pages) != fmt.Sprint([]string{"message two", "message three", "receipt 3/3"}) {
		t.Errorf("pages of one: got %q", pages)
	}
	// The last page's cursor still serves again what is within the commit
	// lag of the newest mark; once marks show time has passed, nothing.
	again := sync(cursor, 0)
	wantLines(t, "within the commit lag", again, "message two", "message three", "receipt 3/3")
	for _, d := range []time.Duration{time.Minute, 2 * time.Minute} {
		h.clock.Advance(time.Minute)
		if err := h.store.MarkSync(ctx, now.Add(d)); err != nil {
			t.Fatal(err)
		}
	}
	again = sync(again.Cursor, 0)
	wantLines(t, "once more, the floor moves on", again, "message two", "message three", "receipt 3/3")
	wantLines(t, "nothing new", sync(again.Cursor, 0))

	// A reconnect with the cursor of frame "three" serves again what
	// may still have been committing around it ("two"), then the rest.
	wantLines(t, "live cursor", sync(chatcore.LiveCursor(three.ChangeID), 0), "message two", "message three", "receipt 3/3")

	for _, tc := range []struct{ name, cursor string }{
		{"malformed", "czEuby4x"},
		{"garbage", "!!"},
		{"ahead of this server", chatcore.LiveCursor(three.ChangeID + 1000)},
	} {
		_, err := h.svc.Sync.Sync(ctx, b.ID, tc.cursor, 0)
		wantCode(t, err, chatcore.EGone)
	}
	_, err = h.svc.Sync.Sync(ctx, b.ID, "", -1)
	wantCode(t, err, chatcore.EInvalid)

	// Past the retention the horizon passes the early cursor: 410.
	if _, err := h.store.PruneSync(ctx, now.Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Sync.Sync(ctx, b.ID, early.Cursor, 0)
	wantCode(t, err, chatcore.EGone)
	if _, err := h.svc.Sync.Sync(ctx, b.ID, cursor, 0); err != nil {
		t.Errorf("a recent cursor after pruning: %v", err)
	}
}
