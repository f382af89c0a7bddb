package storetest

import (
	"testing"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/sqlstore"
)

// testAppendMessageNotMember: the append itself refuses a sender who is
// not a member, stores nothing and consumes no seq, with or without
// attachments; a system message may name one who just left.
func testAppendMessageNotMember(t *testing.T, s chatcore.Store) {
	us := MustUsers(t, s, "nm", 3)
	outsider := MustUser(t, s, "outsider")
	c := MustGroup(t, s, "Members only", us...)
	MustSend(t, s, c.ID, us[0].ID, "first", t0)
	att := MustAttachment(t, s, outsider, chatcore.StatusReady, 10, t0)

	for _, clientID := range []string{uuid.NewString(), ""} {
		_, _, err := s.AppendMessage(ctx(t), newMessage(c.ID, outsider.ID, clientID, "let me in", t0), nil)
		wantCode(t, err, chatcore.EForbidden)
	}
	_, _, err := s.AppendMessage(ctx(t), newMessage(c.ID, outsider.ID, uuid.NewString(), "look", t0), []string{att.ID})
	wantCode(t, err, chatcore.EForbidden)
	if got := lastSeq(t, s, c.ID, us[0].ID); got != 1 {
		t.Fatalf("last seq after refused appends: got %d, want 1", got)
	}

	// Removed: refused from then on; the retry of what they sent before
	// still returns the original.
	before, _, err := s.AppendMessage(ctx(t), newMessage(c.ID, us[2].ID, "before-removal", "bye", t0), nil)
	if err != nil {
		t.Fatalf("append before removal: %v", err)
	}
	if err := s.RemoveMember(ctx(t), c.ID, us[2].ID); err != nil {
		t.Fatalf("remove member: %v", err)
	}
	_, _, err = s.AppendMessage(ctx(t), newMessage(c.ID, us[2].ID, uuid.NewString(), "still here?", t0), nil)
	wantCode(t, err, chatcore.EForbidden)
	again, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, us[2].ID, "before-removal", "bye", t0), nil)
	if err != nil || created || again.ID != before.ID {
		t.Fatalf("retry of a message sent before removal: got %+v created %v err %v, want the original %s", again, created, err, before.ID)
	}
	sys := newMessage(c.ID, us[2].ID, "", "", t0)
	sys.Kind, sys.System = chatcore.MessageSystem, &chatcore.SystemEvent{Event: chatcore.SystemMemberLeft, ActorID: us[2].ID, UserIDs: []string{}}
	if _, _, err := s.AppendMessage(ctx(t), sys, nil); err != nil {
		t.Fatalf("system message naming who left: %v", err)
	}
	if got := lastSeq(t, s, c.ID, us[0].ID); got != 3 {
		t.Fatalf("last seq: got %d, want 3", got)
	}
}

// testGroupCommitNotMember: in one batch, a non-member's message is left
// out and refused alone; the others are stored with consecutive seqs.
func testGroupCommitNotMember(t *testing.T, a GroupCommitAdapter) {
	s := a.Open(t)
	s.SetGroupCommit(sqlstore.GroupCommit{Linger: linger})
	us := MustUsers(t, s, "b", 2)
	outsider := MustUser(t, s, "outsider")
	c := MustGroup(t, s, "Batch", us...)
	msgs := []*chatcore.Message{
		newMessage(c.ID, us[0].ID, uuid.NewString(), "one", t0),
		newMessage(c.ID, outsider.ID, uuid.NewString(), "intruder", t0),
		newMessage(c.ID, us[1].ID, uuid.NewString(), "two", t0),
		newMessage(c.ID, outsider.ID, "", "intruder again", t0),
	}
	b0, _ := s.GroupCommitStats()
	res := sendAll(t, s, msgs)
	if b1, _ := s.GroupCommitStats(); b1 != b0+1 {
		t.Fatalf("batches: got %d, want 1 (every send in one batch)", b1-b0)
	}
	seqs := map[int64]bool{}
	for _, r := range res {
		if r.req.SenderID == outsider.ID {
			wantCode(t, r.err, chatcore.EForbidden)
			continue
		}
		if r.err != nil || !r.created {
			t.Fatalf("append %q: created %v err %v", r.req.Body, r.created, r.err)
		}
		seqs[r.msg.Seq] = true
	}
	if !seqs[1] || !seqs[2] || len(seqs) != 2 {
		t.Fatalf("seqs of the members' messages: got %v, want 1 and 2", seqs)
	}
	if got := lastSeq(t, s, c.ID, us[0].ID); got != 2 {
		t.Fatalf("last seq: got %d, want 2", got)
	}

	// A blocked sender in a direct conversation, in a batch.
	d := MustDirect(t, s, us[0], us[1])
	if _, err := s.(chatcore.BlockStore).PutBlock(ctx(t), us[1].ID, us[0].ID, t0, 100); err != nil {
		t.Fatalf("put block: %v", err)
	}
	res = sendAll(t, s, []*chatcore.Message{
		newMessage(d.ID, us[0].ID, uuid.NewString(), "blocked", t0),
		newMessage(d.ID, us[1].ID, uuid.NewString(), "blocker", t0),
	})
	wantCode(t, res[0].err, chatcore.EForbidden)
	if res[1].err != nil || res[1].msg.Seq != 1 {
		t.Fatalf("the blocker's message in the same batch: got %+v %v, want seq 1", res[1].msg, res[1].err)
	}

	// Without group commit, each message alone: the same.
	off := a.Open(t)
	off.SetGroupCommit(sqlstore.GroupCommit{Off: true})
	us = MustUsers(t, off, "o", 2)
	outsider = MustUser(t, off, "outsider")
	c = MustGroup(t, off, "Alone", us...)
	for _, clientID := range []string{uuid.NewString(), ""} {
		_, _, err := off.AppendMessage(ctx(t), newMessage(c.ID, outsider.ID, clientID, "intruder", t0), nil)
		wantCode(t, err, chatcore.EForbidden)
	}
	MustSend(t, off, c.ID, us[1].ID, "member", t0)
	if got := lastSeq(t, off, c.ID, us[0].ID); got != 1 {
		t.Fatalf("last seq without group commit: got %d, want 1", got)
	}
}

// testAppendMessageBlocked: in a direct conversation the append refuses a
// sender whom the other member blocks (the services' view of blocks may be
// cached); groups are not affected, nor the blocker's own messages.
func testAppendMessageBlocked(t *testing.T, s chatcore.Store) {
	bs, ok := s.(chatcore.BlockStore)
	if !ok {
		t.Fatalf("%T keeps no blocks", s)
	}
	a, b := MustUser(t, s, "blocked"), MustUser(t, s, "blocker")
	d := MustDirect(t, s, a, b)
	g := MustGroup(t, s, "Both", a, b)
	MustSend(t, s, d.ID, a.ID, "before", t0)
	if _, err := bs.PutBlock(ctx(t), b.ID, a.ID, t0, 100); err != nil {
		t.Fatalf("put block: %v", err)
	}
	for _, clientID := range []string{uuid.NewString(), ""} {
		_, _, err := s.AppendMessage(ctx(t), newMessage(d.ID, a.ID, clientID, "still there?", t0), nil)
		wantCode(t, err, chatcore.EForbidden)
	}
	MustSend(t, s, d.ID, b.ID, "the blocker may write", t0)
	MustSend(t, s, g.ID, a.ID, "groups are not refused", t0)
	if got := lastSeq(t, s, d.ID, a.ID); got != 2 {
		t.Fatalf("direct last seq: got %d, want 2", got)
	}
	if _, err := bs.DeleteBlock(ctx(t), b.ID, a.ID); err != nil {
		t.Fatalf("delete block: %v", err)
	}
	MustSend(t, s, d.ID, a.ID, "after unblock", t0)
}
