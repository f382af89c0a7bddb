package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// syncSummary renders changes as "type:conversation-title-or-id:detail"
// lines so tests compare whole feeds.
func syncSummary(cs []chatcore.SyncChange, names map[string]string) []string {
	out := []string{}
	for _, c := range cs {
		conv := names[c.ConversationID]
		if conv == "" {
			conv = c.ConversationID
		}
		switch c.Type {
		case chatcore.ChangeMessage:
			detail := c.Message.Body
			if c.Message.DeletedAt != nil {
				detail = "(deleted)"
			}
			for _, a := range c.Message.Attachments {
				detail += " [" + string(a.Status) + "]"
			}
			out = append(out, fmt.Sprintf("message:%s:%d %s", conv, c.Message.Seq, detail))
		case chatcore.ChangeReceipt:
			out = append(out, fmt.Sprintf("receipt:%s:%s %d/%d", conv, names[c.Receipt.UserID], c.Receipt.DeliveredSeq, c.Receipt.ReadSeq))
		default:
			out = append(out, c.Type+":"+conv)
		}
	}
	return out
}

// mustSync reads userID's whole feed after since (one page).
func mustSync(t *testing.T, s chatcore.Store, userID string, since int64) []chatcore.SyncChange {
	t.Helper()
	cs, more, err := s.SyncChanges(ctx(t), userID, since, chatcore.MaxSyncPage)
	if err != nil || more {
		t.Fatalf("sync changes: more %v, err %v", more, err)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].ID <= cs[i-1].ID {
			t.Fatalf("changes not in increasing id order: %d then %d", cs[i-1].ID, cs[i].ID)
		}
	}
	return cs
}

func mustHead(t *testing.T, s chatcore.Store) int64 {
	t.Helper()
	h, err := s.SyncHead(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func wantFeed(t *testing.T, label string, got []chatcore.SyncChange, names map[string]string, want ...string) {
	t.Helper()
	g := syncSummary(got, names)
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("%s feed:\n got  %q\n want %q", label, g, want)
	}
}

// testSyncCompaction: a message edited three times is one change with the
// latest body, placed after the changes made before its last edit; a
// tombstone and an attachment becoming ready move their message too;
// receipts compact to the latest position.
func testSyncCompaction(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "sca"), MustUser(t, s, "scb")
	c := MustDirect(t, s, a, b)
	names := map[string]string{c.ID: "ab", a.ID: "a", b.ID: "b"}
	since := mustHead(t, s)
	wantFeed(t, "empty", mustSync(t, s, b.ID, since), names)

	att := MustAttachment(t, s, a, chatcore.StatusProcessing, 10, t0)
	m1 := MustSend(t, s, c.ID, a.ID, "v1", at(time.Second))
	m2 := MustSend(t, s, c.ID, a.ID, "second", at(2*time.Second))
	m3 := MustSend(t, s, c.ID, a.ID, "photo", at(3*time.Second), att.ID)
	if m1.ChangeID <= since || m2.ChangeID <= m1.ChangeID || m3.ChangeID <= m2.ChangeID {
		t.Fatalf("change ids of sends: %d, %d, %d after head %d; want increasing", m1.ChangeID, m2.ChangeID, m3.ChangeID, since)
	}
	for i, body := range []string{"v2", "v3", "v4"} {
		if _, err := s.EditMessage(ctx(t), c.ID, m1.Seq, body, nil, at(time.Minute+time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	wantFeed(t, "after edits", mustSync(t, s, b.ID, since), names,
		"message:ab:2 second", "message:ab:3 photo [processing]", "message:ab:1 v4")

	if _, _, err := s.DeleteMessage(ctx(t), c.ID, m2.Seq, at(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	att.Status, att.UpdatedAt = chatcore.StatusReady, at(3*time.Minute)
	if err := s.UpdateAttachment(ctx(t), att); err != nil {
		t.Fatal(err)
	}
	for _, read := range []int64{1, 3} {
		if _, _, err := s.AdvanceReceipt(ctx(t), c.ID, b.ID, 0, read); err != nil {
			t.Fatal(err)
		}
	}
	wantFeed(t, "a's feed", mustSync(t, s, a.ID, since), names,
		"message:ab:1 v4", "message:ab:2 (deleted)", "message:ab:3 photo [ready]", "receipt:ab:b 3/3")
	r, _, err := s.AdvanceReceipt(ctx(t), c.ID, a.ID, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.ChangeID <= mustSync(t, s, a.ID, since)[2].ID {
		t.Errorf("receipt change id %d is not after the changes before it", r.ChangeID)
	}
	// Resuming after the second change gives only what came after it.
	all := mustSync(t, s, b.ID, since)
	wantFeed(t, "b resumed", mustSync(t, s, b.ID, all[1].ID), names,
		"message:ab:3 photo [ready]", "receipt:ab:b 3/3", "receipt:ab:a 3/0")
}

// testSyncMembership: a member never gets another conversation's changes;
// joining gives a conversation change and the changes after it, not the
// history before it.
func testSyncMembership(t *testing.T, s chatcore.Store) {
	a, b, d := MustUser(t, s, "sma"), MustUser(t, s, "smb"), MustUser(t, s, "smd")
	since := mustHead(t, s)
	g := MustGroup(t, s, "g", a, b)
	other := MustDirect(t, s, b, d)
	names := map[string]string{g.ID: "g", other.ID: "bd", a.ID: "a", b.ID: "b", d.ID: "d"}
	MustSend(t, s, g.ID, a.ID, "in g", at(time.Second))
	MustSend(t, s, other.ID, d.ID, "in bd", at(2*time.Second))
	MustSend(t, s, g.ID, b.ID, "before d", at(3*time.Second))

	wantFeed(t, "a", mustSync(t, s, a.ID, since), names, "conversation:g", "message:g:1 in g", "message:g:2 before d")
	wantFeed(t, "d", mustSync(t, s, d.ID, since), names, "conversation:bd", "message:bd:1 in bd")
	wantFeed(t, "b", mustSync(t, s, b.ID, since), names,
		"conversation:g", "conversation:bd", "message:g:1 in g", "message:bd:1 in bd", "message:g:2 before d")

	mid := mustHead(t, s)
	if err := s.AddMembers(ctx(t), g.ID, []string{d.ID}, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	MustSend(t, s, g.ID, a.ID, "welcome", at(2*time.Minute))
	wantFeed(t, "d after joining", mustSync(t, s, d.ID, mid), names, "conversation:g", "message:g:3 welcome")
}

// testSyncRemoved: a removed member gets the changes from before the
// removal, then their removal, and nothing after it; added again, they get
// the conversation and what follows.
func testSyncRemoved(t *testing.T, s chatcore.Store) {
	a, b, c := MustUser(t, s, "sra"), MustUser(t, s, "srb"), MustUser(t, s, "src")
	g := MustGroup(t, s, "g", a, b, c)
	names := map[string]string{g.ID: "g", a.ID: "a", b.ID: "b", c.ID: "c"}
	since := mustHead(t, s)
	m1 := MustSend(t, s, g.ID, a.ID, "before", at(time.Second))
	if err := s.RemoveMember(ctx(t), g.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	MustSend(t, s, g.ID, a.ID, "after", at(2*time.Second))
	if _, err := s.EditMessage(ctx(t), g.ID, m1.Seq, "before, edited after", nil, at(3*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AdvanceReceipt(ctx(t), g.ID, b.ID, 0, 2); err != nil {
		t.Fatal(err)
	}
	// m1 changed after the removal: c keeps what they saw and learns
	// nothing of the edit; the feed holds only the removal.
	wantFeed(t, "c", mustSync(t, s, c.ID, since), names, "removed:g")
	wantFeed(t, "b", mustSync(t, s, b.ID, since), names, "message:g:2 after", "message:g:1 before, edited after", "receipt:g:b 2/2")

	since2 := mustHead(t, s)
	MustSend(t, s, g.ID, a.ID, "c cannot see this", at(4*time.Second))
	if err := s.RemoveMember(ctx(t), g.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	wantFeed(t, "b removed after a message", mustSync(t, s, b.ID, since2), names, "message:g:3 c cannot see this", "removed:g")
	wantFeed(t, "c meanwhile", mustSync(t, s, c.ID, since2), names)

	if err := s.AddMembers(ctx(t), g.ID, []string{c.ID}, at(time.Minute)); err != nil {
		t.Fatal(err)
	}
	MustSend(t, s, g.ID, a.ID, "welcome back", at(2*time.Minute))
	wantFeed(t, "c back", mustSync(t, s, c.ID, since), names, "removed:g", "conversation:g", "message:g:4 welcome back")
}

// testSyncReactionsAndTitle: a reaction added or removed moves its message
// (one change however many), and a rename gives a conversation change.
func testSyncReactionsAndTitle(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "sta"), MustUser(t, s, "stb")
	g := MustGroup(t, s, "before", a, b)
	names := map[string]string{g.ID: "g"}
	m1 := MustSend(t, s, g.ID, a.ID, "one", at(time.Second))
	MustSend(t, s, g.ID, a.ID, "two", at(2*time.Second))
	since := mustHead(t, s)
	for _, emoji := range []string{"👍", "🎉"} {
		if _, err := s.AddReaction(ctx(t), g.ID, m1.Seq, b.ID, emoji, at(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	wantFeed(t, "after two reactions", mustSync(t, s, a.ID, since), names, "message:g:1 one")
	mid := mustHead(t, s)
	if _, err := s.RemoveReaction(ctx(t), g.ID, m1.Seq, b.ID, "👍"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetConversationTitle(ctx(t), g.ID, "after"); err != nil {
		t.Fatal(err)
	}
	feed := mustSync(t, s, a.ID, mid)
	wantFeed(t, "after a removal and a rename", feed, names, "message:g:1 one", "conversation:g")
	if err := s.SetConversationTitle(ctx(t), g.ID, "after"); err != nil {
		t.Fatal(err)
	}
	wantFeed(t, "the same title again", mustSync(t, s, a.ID, feed[1].ID), names)
}

// testSyncPaging: pages of limit changes, has_more until the last, each
// change exactly once.
func testSyncPaging(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "spa"), MustUser(t, s, "spb")
	c := MustDirect(t, s, a, b)
	since := mustHead(t, s)
	for i := range 7 {
		MustSend(t, s, c.ID, a.ID, fmt.Sprint("m", i+1), at(time.Duration(i)*time.Second))
	}
	var seqs []int64
	pages := 0
	for cursor := since; ; pages++ {
		cs, more, err := s.SyncChanges(ctx(t), b.ID, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 3 {
			t.Fatalf("page of %d changes, want at most 3", len(cs))
		}
		for _, ch := range cs {
			seqs = append(seqs, ch.Message.Seq)
			cursor = ch.ID
		}
		if !more {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if fmt.Sprint(seqs) != "[1 2 3 4 5 6 7]" || pages != 2 {
		t.Errorf("paged seqs %v in %d pages after the first, want [1 2 3 4 5 6 7] in 2", seqs, pages)
	}
}

// testSyncHorizon: marks bound the floor; pruning raises the horizon and
// cursors below it are gone.
func testSyncHorizon(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "sha"), MustUser(t, s, "shb")
	c := MustDirect(t, s, a, b)
	h0 := mustHead(t, s)
	if err := s.MarkSync(ctx(t), at(0)); err != nil {
		t.Fatal(err)
	}
	m1 := MustSend(t, s, c.ID, a.ID, "one", at(time.Second))
	if err := s.MarkSync(ctx(t), at(20*time.Second)); err != nil {
		t.Fatal(err)
	}
	m2 := MustSend(t, s, c.ID, a.ID, "two", at(21*time.Second))
	if err := s.MarkSync(ctx(t), at(22*time.Second)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		x    int64
		lag  time.Duration
		want int64
	}{
		{"newest mark below is 22s; 10s before it: the mark at 0", m2.ChangeID + 1, 10 * time.Second, h0},
		{"no lag: the newest mark below", m2.ChangeID + 1, 0, m2.ChangeID},
		{"below m2: the mark at 20s, less 10s", m2.ChangeID, 10 * time.Second, h0},
		{"below m2, lag 1s", m2.ChangeID, time.Second, h0},
		{"below m2, no lag", m2.ChangeID, 0, m1.ChangeID},
		{"no mark below: the horizon", h0, 0, 0},
	} {
		got, err := s.SyncFloor(ctx(t), tc.x, tc.lag)
		if err != nil || got != tc.want {
			t.Errorf("%s: SyncFloor(%d, %v) = %d, %v; want %d", tc.name, tc.x, tc.lag, got, err, tc.want)
		}
	}
	if err := s.RemoveMember(ctx(t), c.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	horizon, err := s.PruneSync(ctx(t), at(21*time.Second))
	if err != nil || horizon != m1.ChangeID {
		t.Fatalf("prune: horizon %d, %v; want %d (the mark at 20s)", horizon, err, m1.ChangeID)
	}
	_, _, err = s.SyncChanges(ctx(t), b.ID, h0, 10)
	wantCode(t, err, chatcore.EGone)
	cs, _, err := s.SyncChanges(ctx(t), b.ID, horizon, 10)
	if err != nil || len(cs) != 2 || cs[0].Type != chatcore.ChangeMessage || cs[1].Type != chatcore.ChangeRemoved {
		t.Errorf("at the horizon: got %+v, %v; want m2 then the removal", cs, err)
	}
	if got, err := s.SyncFloor(ctx(t), m1.ChangeID, 0); err != nil || got != horizon {
		t.Errorf("floor below the pruned marks: %d, %v; want the horizon %d", got, err, horizon)
	}
	if again, err := s.PruneSync(ctx(t), at(0)); err != nil || again != horizon {
		t.Errorf("pruning earlier: horizon %d, %v; want it kept at %d", again, err, horizon)
	}
}
