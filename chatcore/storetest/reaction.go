package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
)

// details returns m's reactions and reply_to as viewer sees them.
func details(t *testing.T, s chatcore.Store, viewer string, msgs ...*chatcore.Message) {
	t.Helper()
	if err := s.FillMessageDetails(ctx(t), msgs, viewer); err != nil {
		t.Fatal(err)
	}
}

// testReactions: a user adds several different emoji, each once
// (idempotent); summaries count, list the first ten reactors oldest first
// and say whether the viewer is among them; removal is idempotent;
// tombstones and system messages take none; the per-user limit holds.
func testReactions(t *testing.T, s chatcore.Store) {
	us := MustUsers(t, s, "rx", 12)
	c := MustGroup(t, s, "reactions", us...)
	m := MustSend(t, s, c.ID, us[0].ID, "react to me", at(time.Second))

	for i, u := range us {
		added, err := s.AddReaction(ctx(t), c.ID, m.Seq, u.ID, "👍", at(time.Duration(i+2)*time.Second))
		if err != nil || !added {
			t.Fatalf("add 👍 for %s: added %v, err %v", u.Username, added, err)
		}
	}
	if added, err := s.AddReaction(ctx(t), c.ID, m.Seq, us[0].ID, "👍", at(time.Minute)); err != nil || added {
		t.Errorf("adding 👍 again: got added %v, err %v, want false, nil", added, err)
	}
	if added, err := s.AddReaction(ctx(t), c.ID, m.Seq, us[0].ID, "🎉", at(time.Minute)); err != nil || !added {
		t.Errorf("a second emoji: got added %v, err %v, want true", added, err)
	}

	got := *m
	details(t, s, us[11].ID, &got)
	want := []chatcore.Reaction{
		{Emoji: "👍", Count: 12, UserIDs: ids(us[:10]), Me: true},
		{Emoji: "🎉", Count: 1, UserIDs: []string{us[0].ID}, Me: false},
	}
	if diff := cmp.Diff(want, got.Reactions); diff != "" {
		t.Errorf("reactions as %s (-want +got):\n%s", us[11].Username, diff)
	}
	details(t, s, "", &got)
	if got.Reactions[0].Me || got.Reactions[1].Me {
		t.Errorf("reactions for nobody: got me set in %+v", got.Reactions)
	}

	if removed, err := s.RemoveReaction(ctx(t), c.ID, m.Seq, us[0].ID, "🎉"); err != nil || !removed {
		t.Errorf("remove 🎉: got %v, %v", removed, err)
	}
	if removed, err := s.RemoveReaction(ctx(t), c.ID, m.Seq, us[0].ID, "🎉"); err != nil || removed {
		t.Errorf("remove 🎉 again: got %v, %v, want false, nil", removed, err)
	}
	_, err := s.RemoveReaction(ctx(t), c.ID, 99, us[0].ID, "🎉")
	wantCode(t, err, chatcore.ENotFound)
	_, err = s.AddReaction(ctx(t), c.ID, 99, us[0].ID, "🎉", at(time.Minute))
	wantCode(t, err, chatcore.ENotFound)

	reactors, err := s.ReactorEmoji(ctx(t), c.ID, m.Seq)
	if err != nil {
		t.Fatal(err)
	}
	if len(reactors) != 12 || !cmp.Equal(reactors[us[3].ID], []string{"👍"}) {
		t.Errorf("reactor emoji: got %d reactors, %s has %v", len(reactors), us[3].Username, reactors[us[3].ID])
	}

	// The per-user limit.
	for i := range chatcore.MaxReactionsPerUser {
		if _, err := s.AddReaction(ctx(t), c.ID, m.Seq, us[1].ID, fmt.Sprintf("%c", 'a'+i), at(time.Hour)); err != nil {
			if i == chatcore.MaxReactionsPerUser-1 { // 👍 is one of theirs
				wantCode(t, err, chatcore.ETooLarge)
				break
			}
			t.Fatalf("reaction %d: %v", i, err)
		}
	}

	// No reactions on system messages or tombstones; deleting drops them.
	sys, _, err := s.AppendMessage(ctx(t), &chatcore.Message{ID: newMessage("", "", "", "", t0).ID, ConversationID: c.ID, SenderID: us[0].ID,
		Kind: chatcore.MessageSystem, System: &chatcore.SystemEvent{Event: chatcore.SystemMemberLeft, ActorID: us[0].ID}, CreatedAt: at(time.Hour)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.AddReaction(ctx(t), c.ID, sys.Seq, us[1].ID, "👍", at(time.Hour))
	wantCode(t, err, chatcore.EInvalid)
	if _, _, err := s.DeleteMessage(ctx(t), c.ID, m.Seq, at(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = s.AddReaction(ctx(t), c.ID, m.Seq, us[1].ID, "👍", at(2*time.Hour))
	wantCode(t, err, chatcore.EConflict)
	gone, err := s.MessageBySeq(ctx(t), c.ID, m.Seq)
	if err != nil {
		t.Fatal(err)
	}
	details(t, s, us[0].ID, gone)
	if len(gone.Reactions) != 0 {
		t.Errorf("tombstone reactions: got %+v, want none", gone.Reactions)
	}
}

// testReactionsConcurrent: many users reacting at once are all counted.
func testReactionsConcurrent(t *testing.T, s chatcore.Store) {
	const n = 40
	us := MustUsers(t, s, "rc", n)
	c := MustGroup(t, s, "busy", us...)
	m := MustSend(t, s, c.ID, us[0].ID, "popular", at(time.Second))
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i, u := range us {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range []string{"❤️", "😂"} {
				if _, err := s.AddReaction(ctx(t), c.ID, m.Seq, u.ID, e, at(time.Duration(i)*time.Millisecond)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent reaction: %v", err)
	}
	got := *m
	details(t, s, us[5].ID, &got)
	if len(got.Reactions) != 2 {
		t.Fatalf("got %d reaction summaries, want 2: %+v", len(got.Reactions), got.Reactions)
	}
	for _, r := range got.Reactions {
		if r.Count != n || len(r.UserIDs) != chatcore.ReactionUserIDs || !r.Me {
			t.Errorf("%s: count %d, %d user ids, me %v; want %d, %d, true", r.Emoji, r.Count, len(r.UserIDs), r.Me, n, chatcore.ReactionUserIDs)
		}
	}
}

// testReplyTo: a reply carries the quoted message's seq, sender, kind and
// first ReplyBodyRunes characters (rune-safe), and deleted once it is a
// tombstone; messages of several conversations fill at once.
func testReplyTo(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "rpa"), MustUser(t, s, "rpb")
	c := MustDirect(t, s, a, b)
	long := ""
	for range 250 {
		long += "ß"
	}
	orig := MustSend(t, s, c.ID, a.ID, long, at(time.Second))
	rm := newMessage(c.ID, b.ID, "reply-1", "quoting", at(2*time.Second))
	rm.ReplyToSeq = orig.Seq
	reply, _, err := s.AppendMessage(ctx(t), rm, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := MustGroup(t, s, "other", a, b)
	o1 := MustSend(t, s, other.ID, a.ID, "elsewhere", at(time.Second))
	om := newMessage(other.ID, b.ID, "reply-2", "also quoting", at(2*time.Second))
	om.ReplyToSeq = o1.Seq
	oreply, _, err := s.AppendMessage(ctx(t), om, nil)
	if err != nil {
		t.Fatal(err)
	}

	details(t, s, a.ID, reply, oreply)
	want := &chatcore.ReplyTo{Seq: orig.Seq, SenderID: a.ID, Body: long[:2*chatcore.ReplyBodyRunes], Kind: chatcore.MessageText}
	if diff := cmp.Diff(want, reply.ReplyTo); diff != "" {
		t.Errorf("reply_to (-want +got):\n%s", diff)
	}
	if oreply.ReplyTo == nil || oreply.ReplyTo.Body != "elsewhere" {
		t.Errorf("reply_to in another conversation: got %+v", oreply.ReplyTo)
	}

	if _, _, err := s.DeleteMessage(ctx(t), c.ID, orig.Seq, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	details(t, s, b.ID, list...)
	want = &chatcore.ReplyTo{Seq: orig.Seq, SenderID: a.ID, Kind: chatcore.MessageText, Deleted: true}
	if diff := cmp.Diff(want, list[1].ReplyTo); diff != "" {
		t.Errorf("reply_to of a deleted message (-want +got):\n%s", diff)
	}
	if list[0].ReplyTo != nil {
		t.Errorf("a message that replies to nothing got reply_to %+v", list[0].ReplyTo)
	}
}

// testTombstoneSeqGapless: deleting messages in the middle keeps every
// seq in history, and a new message takes the next seq.
func testTombstoneSeqGapless(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "gpa"), MustUser(t, s, "gpb")
	c := MustDirect(t, s, a, b)
	for i := range 5 {
		MustSend(t, s, c.ID, a.ID, fmt.Sprint("m", i), at(time.Duration(i)*time.Second))
	}
	for _, seq := range []int64{2, 3, 5} {
		if _, _, err := s.DeleteMessage(ctx(t), c.ID, seq, at(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	next := MustSend(t, s, c.ID, b.ID, "after", at(2*time.Minute))
	if next.Seq != 6 {
		t.Errorf("next seq after tombstones: got %d, want 6", next.Seq)
	}
	list, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range list {
		if m.Seq != int64(i+1) {
			t.Fatalf("history seqs have a gap at %d: got seq %d", i, m.Seq)
		}
		if deleted := m.Seq == 2 || m.Seq == 3 || m.Seq == 5; deleted != (m.DeletedAt != nil) || deleted && m.Body != "" {
			t.Errorf("seq %d: deleted_at %v body %q", m.Seq, m.DeletedAt, m.Body)
		}
	}
}

// testAttachmentDeletionQueue: unlinked attachments wait for their due
// time; one a message links again is dropped from the queue.
func testAttachmentDeletionQueue(t *testing.T, s chatcore.Store) {
	a := MustUser(t, s, "adq")
	x := MustAttachment(t, s, a, chatcore.StatusReady, 10, t0)
	y := MustAttachment(t, s, a, chatcore.StatusReady, 10, t0)
	c := MustGroup(t, s, "q", a, MustUser(t, s, "adq2"))
	MustSend(t, s, c.ID, a.ID, "still uses y", at(time.Second), y.ID)
	if err := s.ScheduleAttachmentDeletions(ctx(t), []string{x.ID, y.ID, x.ID}, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueAttachmentDeletions(ctx(t), at(time.Minute), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("before the grace: got %v, %v, want nothing", due, err)
	}
	due, err = s.DueAttachmentDeletions(ctx(t), at(2*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{x.ID}, due); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	if err := s.FinishAttachmentDeletion(ctx(t), x.ID); err != nil {
		t.Fatal(err)
	}
	if due, err = s.DueAttachmentDeletions(ctx(t), at(3*time.Hour), 10); err != nil || len(due) != 0 {
		t.Errorf("after finishing: got %v, %v, want nothing", due, err)
	}
}

// testConversationTitle: groups can be renamed, direct conversations not.
func testConversationTitle(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "tta"), MustUser(t, s, "ttb")
	g := MustGroup(t, s, "old", a, b)
	if err := s.SetConversationTitle(ctx(t), g.ID, "new"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConversationForUser(ctx(t), g.ID, b.ID)
	if err != nil || got.Title != "new" {
		t.Errorf("title: got %+v, %v", got, err)
	}
	wantCode(t, s.SetConversationTitle(ctx(t), MustDirect(t, s, a, b).ID, "x"), chatcore.ENotFound)
}
