package chatcore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// nextRaw returns c's next frame decoded into v (any frame type).
func nextRaw(t *testing.T, c *client, v any) {
	t.Helper()
	select {
	case b := <-c.ch:
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode frame %s: %v", b, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no frame within 5s", c.user)
	}
}

// TestEditService: only the sender edits, within the window (the clock
// moves past it), mentions follow the new body, every member's sockets get
// message_edited; strangers get not_found; tombstones and system messages
// cannot be edited.
func TestEditService(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	outsider := h.MustRegister(t, "mallory").User
	cb, cc := h.connect(t, tr.b.ID), h.connect(t, tr.c.ID)
	m, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k1", Body: "hi @bob"})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Mentions) != 1 || m.Mentions[0] != tr.b.ID {
		t.Fatalf("mentions at send: %v", m.Mentions)
	}
	MustNextFrame(t, cb)
	MustNextFrame(t, cc)

	edited, err := h.svc.Edits.Edit(ctx, tr.a.ID, tr.group.ID, m.Seq, "hi @carol")
	if err != nil {
		t.Fatal(err)
	}
	if edited.Body != "hi @carol" || edited.EditedAt == nil || len(edited.Mentions) != 1 || edited.Mentions[0] != tr.c.ID {
		t.Errorf("edited: got body %q edited_at %v mentions %v, want carol mentioned", edited.Body, edited.EditedAt, edited.Mentions)
	}
	for _, c := range []*client{cb, cc} {
		f := MustNextFrame(t, c)
		if f.Type != chatcore.FrameMessageEdited || f.Message == nil || f.Message.Body != "hi @carol" || f.Message.Seq != m.Seq {
			t.Errorf("%s: got %+v, want message_edited", c.user, f)
		}
	}

	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.b.ID, tr.group.ID, m.Seq, "mine"); return err }(), chatcore.EForbidden)
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, outsider.ID, tr.group.ID, m.Seq, "x"); return err }(), chatcore.ENotFound)
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.a.ID, tr.group.ID, 99, "x"); return err }(), chatcore.ENotFound)
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.a.ID, tr.group.ID, m.Seq, " "); return err }(), chatcore.EInvalid)
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.a.ID, tr.group.ID, m.Seq, "\xff"); return err }(), chatcore.EInvalid)

	h.clock.Advance(chatcore.DefaultEditWindow + time.Second)
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.a.ID, tr.group.ID, m.Seq, "too late"); return err }(), chatcore.EConflict)

	// System messages: a rename writes one; nobody edits, deletes or reacts to it.
	if _, err := h.svc.Conversations.SetTitle(ctx, tr.a.ID, tr.group.ID, "renamed"); err != nil {
		t.Fatal(err)
	}
	f := MustNextFrame(t, cb)
	if f.Message == nil || f.Message.System == nil || f.Message.System.Event != chatcore.SystemTitleChanged || f.Message.System.Title != "renamed" {
		t.Fatalf("rename: got %+v, want a title_changed system message", f.Message)
	}
	sys := f.Message.Seq
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.a.ID, tr.group.ID, sys, "x"); return err }(), chatcore.EInvalid)
	wantCode(t, func() error { _, err := h.svc.Edits.Delete(ctx, tr.a.ID, tr.group.ID, sys); return err }(), chatcore.EInvalid)
	wantCode(t, func() error { _, err := h.svc.Edits.React(ctx, tr.b.ID, tr.group.ID, sys, "👍", true); return err }(), chatcore.EInvalid)
	wantCode(t, func() error { _, err := h.svc.Conversations.SetTitle(ctx, tr.b.ID, tr.group.ID, "mine"); return err }(), chatcore.EForbidden)
	wantCode(t, func() error { _, err := h.svc.Conversations.SetTitle(ctx, tr.a.ID, tr.direct.ID, "x"); return err }(), chatcore.EForbidden)
}

// TestDeleteService: the sender deletes their own; a group admin deletes
// anyone's, a plain member nobody else's; members get message_deleted;
// the tombstone keeps its seq and cannot be edited or reacted to.
func TestDeleteService(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	send := func(from, body string) *chatcore.Message {
		m, _, err := h.svc.Messages.Send(ctx, from, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: body, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ca := h.connect(t, tr.a.ID)
	byB, byC := send(tr.b.ID, "from bob"), send(tr.c.ID, "from carol")
	MustNextFrame(t, ca)
	MustNextFrame(t, ca)

	wantCode(t, func() error { _, err := h.svc.Edits.Delete(ctx, tr.c.ID, tr.group.ID, byB.Seq); return err }(), chatcore.EForbidden)
	gone, err := h.svc.Edits.Delete(ctx, tr.b.ID, tr.group.ID, byB.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if gone.DeletedAt == nil || gone.Body != "" || gone.Seq != byB.Seq {
		t.Errorf("tombstone: got %+v", gone)
	}
	if f := MustNextFrame(t, ca); f.Type != chatcore.FrameMessageDeleted || f.Message.Seq != byB.Seq || f.Message.DeletedAt == nil {
		t.Errorf("alice: got %+v, want message_deleted", f)
	}
	// alice owns the group: she may delete carol's message.
	if _, err := h.svc.Edits.Delete(ctx, tr.a.ID, tr.group.ID, byC.Seq); err != nil {
		t.Fatalf("owner deleting a member's message: %v", err)
	}
	if again, err := h.svc.Edits.Delete(ctx, tr.b.ID, tr.group.ID, byB.Seq); err != nil || again.DeletedAt == nil {
		t.Errorf("deleting again: got %+v %v, want the tombstone", again, err)
	}
	wantCode(t, func() error { _, err := h.svc.Edits.Edit(ctx, tr.b.ID, tr.group.ID, byB.Seq, "back"); return err }(), chatcore.EConflict)
	wantCode(t, func() error {
		_, err := h.svc.Edits.React(ctx, tr.a.ID, tr.group.ID, byB.Seq, "👍", true)
		return err
	}(), chatcore.EConflict)
	msgs, err := h.svc.Messages.Messages(ctx, tr.c.ID, tr.group.ID, chatcore.MessageQuery{Forward: true})
	if err != nil || len(msgs) != 2 || msgs[0].DeletedAt == nil || msgs[1].DeletedAt == nil {
		t.Errorf("history: got %d messages, %v, want two tombstones", len(msgs), err)
	}
}

// TestReactService: each recipient's frame says whether *they* reacted;
// adding twice is one reaction and no second frame; the emoji is checked.
func TestReactService(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tr := newTrio(t, h)
	ca, cb, cc := h.connect(t, tr.a.ID), h.connect(t, tr.b.ID), h.connect(t, tr.c.ID)
	m, _, err := h.svc.Messages.Send(ctx, tr.a.ID, chatcore.SendRequest{ConversationID: tr.group.ID, ClientID: "k", Body: "vote"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Edits.React(ctx, tr.b.ID, tr.group.ID, m.Seq, "👍", true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{ca, cb, cc} { // the message, bob's reaction
		MustNextFrame(t, c)
		MustNextFrame(t, c)
	}
	got, err := h.svc.Edits.React(ctx, tr.c.ID, tr.group.ID, m.Seq, "👍", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Reactions) != 1 || got.Reactions[0].Count != 2 || !got.Reactions[0].Me {
		t.Errorf("carol's answer: got %+v, want 👍 ×2 with me", got.Reactions)
	}
	for _, x := range []struct {
		c  *client
		me bool
	}{{ca, false}, {cb, true}, {cc, true}} {
		var f chatcore.ReactionFrame
		nextRaw(t, x.c, &f)
		if f.Type != chatcore.FrameReaction || f.UserID != tr.c.ID || !f.On || len(f.Reactions) != 1 ||
			f.Reactions[0].Count != 2 || f.Reactions[0].Me != x.me {
			t.Errorf("%s: got %+v, want 👍 ×2 with me %v", x.c.user, f, x.me)
		}
	}
	if _, err := h.svc.Edits.React(ctx, tr.c.ID, tr.group.ID, m.Seq, "👍", true); err != nil {
		t.Fatal(err)
	}
	expectNoFrame(t, ca, 200*time.Millisecond)
	for _, bad := range []string{"", "👍👍", "ab", " ", "\n", "\xff"} {
		wantCode(t, func() error { _, err := h.svc.Edits.React(ctx, tr.c.ID, tr.group.ID, m.Seq, bad, true); return err }(), chatcore.EInvalid)
	}
	for _, good := range []string{"👍🏽", "👨‍👩‍👧", "🇫🇷", "a", "❤️"} {
		if _, err := h.svc.Edits.React(ctx, tr.c.ID, tr.group.ID, m.Seq, good, true); err != nil {
			t.Errorf("react %q: %v", good, err)
		}
	}
	off, err := h.svc.Edits.React(ctx, tr.b.ID, tr.group.ID, m.Seq, "👍", false)
	if err != nil || off.Reactions[0].Count != 1 || off.Reactions[0].Me {
		t.Errorf("bob removing 👍: got %+v %v, want ×1 without me", off, err)
	}
}
