package chatcore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// TestReceiptsStopAcrossBlocks: once alice blocks bob, neither learns how
// far the other has received or read — no receipt frames either way, in
// their old direct conversation and in a shared group, and their receipts
// are cleared in the views and the sync feed each gets — while carol
// still sees both; typing in the direct conversation crosses neither way.
// Unblocking lets receipts flow again.
func TestReceiptsStopAcrossBlocks(t *testing.T) { onBothStores(t, testReceiptsStopAcrossBlocks) }

func testReceiptsStopAcrossBlocks(t *testing.T, h *harness) {
	ctx := context.Background()
	tr := newTrio(t, h)
	a, b, c := tr.a.ID, tr.b.ID, tr.c.ID
	send := func(from, conv, id string) {
		t.Helper()
		if _, _, err := h.svc.Messages.Send(ctx, from, chatcore.SendRequest{ConversationID: conv, ClientID: id, Body: id}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"d1", "d2", "d3"} {
		send(a, tr.direct.ID, id)
	}
	for _, id := range []string{"g1", "g2", "g3"} {
		send(c, tr.group.ID, id)
	}
	bobCursor, err := h.svc.Sync.Sync(ctx, b, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	ca, cb, cc := h.connect(t, a), h.connect(t, b), h.connect(t, c)

	// Before the block, bob's receipt reaches alice.
	if _, err := h.svc.Receipts.MarkDelivered(ctx, b, tr.direct.ID, 1); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, ca); f.Type != chatcore.FrameReceipt || f.UserID != b || f.DeliveredSeq != 1 {
		t.Fatalf("alice before the block: got %+v, want bob's receipt", f)
	}

	if err := h.svc.Blocks.Block(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if f := MustNextFrame(t, cb); f.Type != chatcore.FramePresence {
		t.Fatalf("bob: got %+v, want alice's presence", f) // she went offline for him
	}

	// Direct: the blocked reads, the blocker reads; nobody is told.
	if _, err := h.svc.Receipts.MarkRead(ctx, b, tr.direct.ID, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Receipts.MarkRead(ctx, a, tr.direct.ID, 3); err != nil {
		t.Fatal(err)
	}
	// Group: carol is told of both, alice and bob of neither.
	for _, who := range []string{b, a} {
		if _, err := h.svc.Receipts.MarkRead(ctx, who, tr.group.ID, 2); err != nil {
			t.Fatal(err)
		}
		if f := MustNextFrame(t, cc); f.Type != chatcore.FrameReceipt || f.UserID != who || f.ReadSeq != 2 {
			t.Fatalf("carol: got %+v, want %s's receipt", f, who)
		}
	}
	// Typing in the old direct conversation: refused for bob, unseen by him.
	wantCode(t, h.svc.Typing.Typing(ctx, b, tr.direct.ID, chatcore.TypingStart), chatcore.EForbidden)
	if err := h.svc.Typing.Typing(ctx, a, tr.direct.ID, chatcore.TypingStart); err != nil {
		t.Fatal(err)
	}
	expectNoFrame(t, ca, 100*time.Millisecond)
	expectNoFrame(t, cb, 100*time.Millisecond)

	// Views: each sees the other's receipts cleared; carol sees them all.
	receipts := func(viewer, conv, of string) (int64, int64) {
		t.Helper()
		cv, err := h.svc.Conversations.Conversation(ctx, viewer, conv)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cv.Members {
			if m.UserID == of {
				return m.DeliveredSeq, m.ReadSeq
			}
		}
		t.Fatalf("%s not in %s", of, conv)
		return 0, 0
	}
	for _, x := range []struct {
		viewer, conv, of string
		read             int64
	}{
		{a, tr.direct.ID, b, 0}, {b, tr.direct.ID, a, 0}, {a, tr.group.ID, b, 0}, {b, tr.group.ID, a, 0},
		{c, tr.group.ID, a, 2}, {c, tr.group.ID, b, 2}, {a, tr.direct.ID, a, 3},
	} {
		if _, read := receipts(x.viewer, x.conv, x.of); read != x.read {
			t.Errorf("%s's view of %s's read_seq in %s: got %d, want %d", x.viewer, x.of, x.conv, read, x.read)
		}
	}
	convs, err := h.svc.Conversations.Conversations(ctx, a, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range convs {
		for _, m := range cv.Members {
			if m.UserID == b && (m.ReadSeq != 0 || m.DeliveredSeq != 0) {
				t.Errorf("alice's list shows bob's receipts in %s: %+v", cv.ID, m)
			}
		}
	}
	// Sync: bob's feed holds his own receipts and carol's, never alice's.
	res, err := h.svc.Sync.Sync(ctx, b, bobCursor.Cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	own := 0
	for _, ch := range res.Changes {
		if ch.Receipt == nil {
			continue
		}
		if ch.Receipt.UserID == a {
			t.Errorf("bob's sync feed holds alice's receipt %+v", ch.Receipt)
		}
		if ch.Receipt.UserID == b {
			own++
		}
	}
	if own == 0 {
		t.Errorf("bob's sync feed lost his own receipts: %+v", res.Changes)
	}
	fresh, err := h.svc.Sync.Sync(ctx, a, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range fresh.Conversations {
		for _, m := range cv.Members {
			if m.UserID == b && m.ReadSeq != 0 {
				t.Errorf("alice's fresh sync shows bob's receipts in %s: %+v", cv.ID, m)
			}
		}
	}

	// Unblocked: each is told the receipts the block hid, live and in the
	// sync feed, and receipts flow again.
	if err := h.svc.Blocks.Unblock(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	hidden := func(x *client, of string, want map[string]int64) {
		t.Helper()
		got := map[string]int64{}
		for len(got) < len(want) {
			f := MustNextFrame(t, x)
			if f.Type == chatcore.FramePresence {
				continue
			}
			if f.Type != chatcore.FrameReceipt || f.UserID != of {
				t.Fatalf("%s after the unblock: got %+v, want %s's receipts", x.user, f, of)
			}
			got[f.ConversationID] = f.ReadSeq
		}
		for conv, read := range want {
			if got[conv] != read {
				t.Errorf("%s after the unblock: %s's read_seq in %s is %d, want %d", x.user, of, conv, got[conv], read)
			}
		}
	}
	hidden(ca, b, map[string]int64{tr.direct.ID: 3, tr.group.ID: 2})
	hidden(cb, a, map[string]int64{tr.direct.ID: 3, tr.group.ID: 2})
	expectNoFrame(t, cc, 100*time.Millisecond) // carol knew already
	res, err = h.svc.Sync.Sync(ctx, b, res.Cursor, 100)
	if err != nil {
		t.Fatal(err)
	}
	fromAlice := map[string]int64{}
	for _, ch := range res.Changes {
		if ch.Receipt != nil && ch.Receipt.UserID == a {
			fromAlice[ch.Receipt.ConversationID] = ch.Receipt.ReadSeq
		}
	}
	if fromAlice[tr.direct.ID] != 3 || fromAlice[tr.group.ID] != 2 {
		t.Errorf("bob's sync after the unblock: alice's receipts %v, want read 3 in the direct and 2 in the group", fromAlice)
	}
	if _, err := h.svc.Receipts.MarkRead(ctx, b, tr.group.ID, 3); err != nil {
		t.Fatal(err)
	}
	for _, x := range []*client{ca, cc} {
		for {
			f := MustNextFrame(t, x)
			if f.Type == chatcore.FramePresence {
				continue
			}
			if f.Type != chatcore.FrameReceipt || f.UserID != b || f.ReadSeq != 3 {
				t.Fatalf("%s after the unblock: got %+v, want bob's receipt", x.user, f)
			}
			break
		}
	}
	if _, read := receipts(a, tr.direct.ID, b); read != 3 {
		t.Errorf("alice's view of bob after the unblock: read_seq %d, want 3", read)
	}
}
