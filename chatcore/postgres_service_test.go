package chatcore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// TestServicePostgres runs the main flows once on the production shape
// (Postgres store, real Redis bus): the SQLite tests cover the logic, this
// one that nothing in it depends on SQLite's behaviour.
func TestServicePostgres(t *testing.T) {
	bus, _ := MustRedisBusPresence(t)
	h := newHarnessOn(t, MustOpenPostgres(t), bus)
	ctx := context.Background()
	tr := newTrio(t, h)
	ca, cb := h.connect(t, tr.a.ID), h.connect(t, tr.b.ID)

	// Refresh rotation and stolen-token revocation.
	r0, err := h.svc.Auth.Login(ctx, "alice", "password-alice")
	if err != nil {
		t.Fatal(err)
	}
	r1, err := h.svc.Auth.Refresh(ctx, r0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Auth.Refresh(ctx, r0.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Refresh(ctx, r1.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)

	// Direct is idempotent; send dedups; members get the message.
	d, created, err := h.svc.Conversations.CreateConversation(ctx, tr.b.ID, []string{tr.a.ID}, "")
	if err != nil || created || d.ID != tr.direct.ID {
		t.Fatalf("got %v %v %v, want the existing direct", d, created, err)
	}
	m, created, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k", Body: "hi"})
	if err != nil || !created || m.Seq != 1 {
		t.Fatalf("send: got %+v %v %v", m, created, err)
	}
	again, created, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k", Body: "hi"})
	if err != nil || created || again.ID != m.ID {
		t.Fatalf("retry: got %+v %v %v", again, created, err)
	}
	for _, c := range []*client{ca, cb, ca, cb} { // original push and re-push
		if f := MustNextFrame(t, c); f.Message == nil || f.Message.ID != m.ID {
			t.Fatalf("%s: got %+v", c.user, f)
		}
	}
	_, _, err = h.svc.Messages.Send(ctx, tr.c.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "k", Body: "hi"})
	wantCode(t, err, chatcore.EForbidden)

	// A reply checks the last seq with one query.
	_, _, err = h.svc.Messages.Send(ctx, tr.b.ID, chatcore.SendRequest{ConversationID: tr.direct.ID, ClientID: "r", Body: "re", ReplyToSeq: 2})
	wantCode(t, err, chatcore.EInvalid)

	// Receipts go to the others only.
	r, err := h.svc.Receipts.MarkRead(ctx, tr.b.ID, tr.direct.ID, 1)
	if err != nil || r.ReadSeq != 1 || r.DeliveredSeq != 1 {
		t.Fatalf("got %+v %v", r, err)
	}
	if f := MustNextFrame(t, ca); f.Type != chatcore.FrameReceipt || f.ReadSeq != 1 {
		t.Errorf("got %+v, want receipt read 1", f)
	}
	expectNoFrame(t, cb, 50*time.Millisecond)
}
