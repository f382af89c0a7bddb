package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
)

// testEditAndTombstone: an edit changes body and edited_at only; a
// tombstone keeps its seq (history stays gapless), loses body, mentions,
// location and attachment links, reports the attachments it unlinked, and
// cannot be edited; deleting again is a no-op.
func testEditAndTombstone(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "eda"), MustUser(t, s, "edb")
	c := MustDirect(t, s, a, b)
	att := MustAttachment(t, s, a, chatcore.StatusReady, 100, t0)
	m1 := MustSend(t, s, c.ID, a.ID, "first", at(time.Second))
	m2 := MustSend(t, s, c.ID, a.ID, "photo", at(2*time.Second), att.ID)
	MustSend(t, s, c.ID, b.ID, "third", at(3*time.Second))

	edited, err := s.EditMessage(ctx(t), c.ID, m1.Seq, "first, edited", nil, at(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if edited.Body != "first, edited" || edited.EditedAt == nil || !edited.EditedAt.Equal(micro(at(time.Minute))) || edited.Seq != m1.Seq {
		t.Errorf("edited: got %+v", edited)
	}
	_, err = s.EditMessage(ctx(t), c.ID, 99, "x", nil, at(time.Minute))
	wantCode(t, err, chatcore.ENotFound)

	gone, unlinked, err := s.DeleteMessage(ctx(t), c.ID, m2.Seq, at(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{att.ID}, unlinked); diff != "" {
		t.Errorf("unlinked (-want +got):\n%s", diff)
	}
	if gone.Body != "" || len(gone.Attachments) != 0 || gone.DeletedAt == nil || gone.Seq != m2.Seq {
		t.Errorf("tombstone: got %+v", gone)
	}
	again, unlinked, err := s.DeleteMessage(ctx(t), c.ID, m2.Seq, at(3*time.Minute))
	if err != nil || len(unlinked) != 0 || !again.DeletedAt.Equal(*gone.DeletedAt) {
		t.Errorf("second delete: got %+v %v %v, want the same tombstone and nothing unlinked", again, unlinked, err)
	}
	_, err = s.EditMessage(ctx(t), c.ID, m2.Seq, "back", nil, at(4*time.Minute))
	wantCode(t, err, chatcore.ENotFound)
	_, _, err = s.DeleteMessage(ctx(t), c.ID, 99, at(time.Minute))
	wantCode(t, err, chatcore.ENotFound)

	list, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, m := range list {
		seqs = append(seqs, m.Seq)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, seqs); diff != "" {
		t.Errorf("seqs after a tombstone (-want +got):\n%s", diff)
	}
	if list[0].Body != "first, edited" || list[1].DeletedAt == nil || list[1].Body != "" || list[2].DeletedAt != nil {
		t.Errorf("history: got %+v %+v %+v", list[0], list[1], list[2])
	}
	// The next message still takes the next seq.
	if m := MustSend(t, s, c.ID, b.ID, "fourth", at(5*time.Minute)); m.Seq != 4 {
		t.Errorf("after a tombstone: got seq %d, want 4", m.Seq)
	}
}

// testTombstoneBySender: account deletion tombstones every message the
// sender wrote, in every conversation, but not system messages nor anyone
// else's messages.
func testTombstoneBySender(t *testing.T, s chatcore.Store) {
	a, b, c := MustUser(t, s, "tba"), MustUser(t, s, "tbb"), MustUser(t, s, "tbc")
	d := MustDirect(t, s, a, b)
	g := MustGroup(t, s, "G", a, b, c)
	MustSend(t, s, d.ID, a.ID, "one", at(time.Second))
	MustSend(t, s, d.ID, b.ID, "two", at(2*time.Second))
	MustSend(t, s, g.ID, a.ID, "three", at(3*time.Second))
	sys := newMessage(g.ID, a.ID, "", "", at(4*time.Second))
	sys.Kind, sys.System = chatcore.MessageSystem, &chatcore.SystemEvent{Event: chatcore.SystemMemberLeft, ActorID: a.ID}
	if _, _, err := s.AppendMessage(ctx(t), sys, nil); err != nil {
		t.Fatal(err)
	}
	n, _, err := s.TombstoneMessagesBySender(ctx(t), a.ID, at(time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("tombstone by sender: got %d, %v; want 2", n, err)
	}
	for _, conv := range []string{d.ID, g.ID} {
		list, err := s.ListMessages(ctx(t), conv, chatcore.MessageQuery{Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			wantGone := m.SenderID == a.ID && m.Kind != chatcore.MessageSystem
			if (m.DeletedAt != nil) != wantGone || (wantGone && m.Body != "") {
				t.Errorf("message %d by %s kind %s: deleted_at %v body %q", m.Seq, m.SenderID, m.Kind, m.DeletedAt, m.Body)
			}
		}
	}
	if n, _, err := s.TombstoneMessagesBySender(ctx(t), a.ID, at(2*time.Hour)); err != nil || n != 0 {
		t.Errorf("again: got %d, %v; want 0", n, err)
	}
}
