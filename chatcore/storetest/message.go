package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

// lastSeq returns the conversation's last seq as member sees it.
func lastSeq(t *testing.T, s chatcore.Store, convID, member string) int64 {
	t.Helper()
	c, err := s.ConversationForUser(ctx(t), convID, member)
	if err != nil {
		t.Fatalf("conversation for user: %v", err)
	}
	return c.LastSeq
}

func testAppendMessageSeq(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "ida"), MustUser(t, s, "jon")
	c := MustDirect(t, s, a, b)
	for i := 1; i <= 3; i++ {
		in := newMessage(c.ID, a.ID, fmt.Sprintf("c%d", i), fmt.Sprintf("hello %d", i), at(time.Duration(i)*time.Second))
		in.ReplyToSeq = int64(i - 1)
		m, created, err := s.AppendMessage(ctx(t), in, nil)
		if err != nil || !created {
			t.Fatalf("append %d: created %v, err %v", i, created, err)
		}
		want := &chatcore.Message{
			ID: in.ID, ConversationID: c.ID, Seq: int64(i), ClientID: fmt.Sprintf("c%d", i), SenderID: a.ID,
			Body: fmt.Sprintf("hello %d", i), ReplyToSeq: int64(i - 1), Attachments: []*chatcore.Attachment{},
			CreatedAt: micro(at(time.Duration(i) * time.Second)), Kind: chatcore.MessageText, Mentions: []string{}, Reactions: []chatcore.Reaction{},
			ChangeID: m.ChangeID, // the sync tests check change ids
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("append %d (-want +got):\n%s", i, diff)
		}
		stored, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Before: int64(i + 1), Limit: 1})
		if err != nil || len(stored) != 1 {
			t.Fatalf("list message %d: got %d messages, err %v", i, len(stored), err)
		}
		if diff := cmp.Diff(want, stored[0]); diff != "" {
			t.Errorf("stored message %d (-want +got):\n%s", i, diff)
		}
	}
	if got := lastSeq(t, s, c.ID, a.ID); got != 3 {
		t.Errorf("last seq: got %d, want 3", got)
	}
	conv, err := s.ConversationForUser(ctx(t), c.ID, b.ID)
	if err != nil {
		t.Fatalf("conversation for user: %v", err)
	}
	if !conv.LastActivityAt.Equal(micro(at(3 * time.Second))) {
		t.Errorf("last activity: got %v, want %v", conv.LastActivityAt, micro(at(3*time.Second)))
	}
	_, _, err = s.AppendMessage(ctx(t), newMessage(uuid.NewString(), a.ID, "x", "to nowhere", t0), nil)
	wantCode(t, err, chatcore.ENotFound)
}

func testAppendMessageConcurrent(t *testing.T, s chatcore.Store) {
	us := MustUsers(t, s, "w", 4)
	c := MustGroup(t, s, "Busy", us...)
	const writers, each = 8, 25
	seqs := make(chan int64, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				m, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, us[w%len(us)].ID, uuid.NewString(), fmt.Sprintf("%d/%d", w, i), t0), nil)
				if err != nil || !created {
					t.Errorf("writer %d append %d: created %v, err %v", w, i, created, err)
					return
				}
				seqs <- m.Seq
			}
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[int64]bool{}
	for seq := range seqs {
		if seen[seq] {
			t.Errorf("seq %d assigned twice", seq)
		}
		seen[seq] = true
	}
	for seq := int64(1); seq <= writers*each; seq++ {
		if !seen[seq] {
			t.Errorf("seq %d missing: seqs must be gapless", seq)
		}
	}
	if got := lastSeq(t, s, c.ID, us[0].ID); got != writers*each {
		t.Errorf("last seq: got %d, want %d", got, writers*each)
	}
	stored, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Forward: true, Limit: chatcore.MaxMessagesPage})
	if err != nil {
		t.Fatalf("list messages: %v", err)
	}
	if len(stored) != writers*each {
		t.Fatalf("stored: got %d messages, want %d", len(stored), writers*each)
	}
	for i, m := range stored {
		if m.Seq != int64(i+1) {
			t.Fatalf("stored message %d: got seq %d, want %d", i, m.Seq, i+1)
		}
	}
}

func testAppendMessageDedup(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "kim"), MustUser(t, s, "lee")
	c := MustDirect(t, s, a, b)
	orig, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, a.ID, "same", "first try", t0), nil)
	if err != nil || !created {
		t.Fatalf("first send: created %v, err %v", created, err)
	}
	tests := []struct {
		name        string
		sender      string
		clientID    string
		wantCreated bool
		wantSeq     int64
	}{
		{"retry returns the original", a.ID, "same", false, 1},
		{"retry again", a.ID, "same", false, 1},
		{"other sender, same client id", b.ID, "same", true, 2},
		{"new client id", a.ID, "other", true, 3},
		{"empty client id is never deduplicated", a.ID, "", true, 4},
		{"empty client id again", a.ID, "", true, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, tc.sender, tc.clientID, "retry", at(time.Minute)), nil)
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if created != tc.wantCreated || m.Seq != tc.wantSeq {
				t.Errorf("got created %v seq %d, want %v %d", created, m.Seq, tc.wantCreated, tc.wantSeq)
			}
			if !tc.wantCreated {
				if diff := cmp.Diff(orig, m); diff != "" {
					t.Errorf("retry must return the original (-want +got):\n%s", diff)
				}
			}
		})
	}
	reused := newMessage(c.ID, a.ID, "fresh", "same id as the first", at(time.Minute))
	reused.ID = orig.ID
	_, _, err = s.AppendMessage(ctx(t), reused, nil)
	wantCode(t, err, chatcore.EConflict)
	if got := lastSeq(t, s, c.ID, a.ID); got != 5 {
		t.Errorf("last seq: got %d, want 5", got)
	}
}

func testAppendMessageDedupConcurrent(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "max"), MustUser(t, s, "ned")
	c := MustDirect(t, s, a, b)
	const n = 12
	type result struct {
		m       *chatcore.Message
		created bool
		err     error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			m, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, a.ID, "flaky-network", "once", t0), nil)
			results[i] = result{m, created, err}
		})
	}
	wg.Wait()
	var winner *chatcore.Message
	nCreated := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("retry %d: %v", i, r.err)
		}
		if r.created {
			nCreated++
			winner = r.m
		}
	}
	if nCreated != 1 {
		t.Fatalf("got %d retries reporting created, want 1", nCreated)
	}
	for i, r := range results {
		if diff := cmp.Diff(winner, r.m); diff != "" {
			t.Errorf("retry %d: message differs from the stored one (-want +got):\n%s", i, diff)
		}
	}
	if got := lastSeq(t, s, c.ID, a.ID); got != 1 {
		t.Errorf("last seq after concurrent retries: got %d, want 1 (no seq consumed by losers)", got)
	}
	// The next message still gets the next seq.
	if m := MustSend(t, s, c.ID, b.ID, "after", t0); m.Seq != 2 {
		t.Errorf("next seq: got %d, want 2", m.Seq)
	}
}

func testAppendMessageAttachments(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "olga"), MustUser(t, s, "pete")
	c := MustDirect(t, s, a, b)
	processing := MustAttachment(t, s, a, chatcore.StatusProcessing, 100, t0)
	ready := MustAttachment(t, s, a, chatcore.StatusReady, 200, t0)
	failed := MustAttachment(t, s, a, chatcore.StatusFailed, 300, t0)
	pending := MustAttachment(t, s, a, chatcore.StatusPending, 400, t0)
	theirs := MustAttachment(t, s, b, chatcore.StatusReady, 500, t0)

	bad := []struct {
		name string
		ids  []string
	}{
		{"pending upload", []string{pending.ID}},
		{"someone else's upload", []string{theirs.ID}},
		{"unknown id", []string{uuid.NewString()}},
		{"one bad among good", []string{processing.ID, pending.ID}},
		{"listed twice", []string{ready.ID, ready.ID}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.AppendMessage(ctx(t), newMessage(c.ID, a.ID, uuid.NewString(), "look", t0), tc.ids)
			wantCode(t, err, chatcore.EInvalid)
		})
	}
	if got := lastSeq(t, s, c.ID, a.ID); got != 0 {
		t.Errorf("last seq after refused sends: got %d, want 0 (nothing stored)", got)
	}

	order := []string{failed.ID, processing.ID, ready.ID}
	m, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, a.ID, "album", "look", t0), order)
	if err != nil || !created {
		t.Fatalf("append with attachments: created %v, err %v", created, err)
	}
	if got := attachmentIDs(m); !cmp.Equal(order, got) {
		t.Errorf("appended attachments: got %v, want %v in order", got, order)
	}
	if diff := cmp.Diff(processing, m.Attachments[1]); diff != "" {
		t.Errorf("appended attachment (-want +got):\n%s", diff)
	}
	// A retry returns the original with its attachments, whatever it lists.
	again, created, err := s.AppendMessage(ctx(t), newMessage(c.ID, a.ID, "album", "look", t0), []string{pending.ID})
	if err != nil || created {
		t.Fatalf("retry with attachments: created %v, err %v; want the original", created, err)
	}
	if diff := cmp.Diff(m, again); diff != "" {
		t.Errorf("retry (-want +got):\n%s", diff)
	}
	// The same upload may be forwarded in another message.
	if m := MustSend(t, s, c.ID, a.ID, "again", t0, ready.ID); len(m.Attachments) != 1 {
		t.Errorf("forwarded attachment: got %d attachments, want 1", len(m.Attachments))
	}
	tooMany := make([]string, chatcore.MaxAttachments+1)
	for i := range tooMany {
		tooMany[i] = ready.ID
	}
	_, _, err = s.AppendMessage(ctx(t), newMessage(c.ID, a.ID, uuid.NewString(), "many", t0), tooMany)
	if code := chatcore.ErrorCode(err); code != chatcore.ETooLarge && code != chatcore.EInvalid {
		t.Errorf("too many attachments: got %v, want too_large or invalid", err)
	}
}

func attachmentIDs(m *chatcore.Message) []string {
	var out []string
	for _, a := range m.Attachments {
		out = append(out, a.ID)
	}
	return out
}

func testListMessages(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "quin"), MustUser(t, s, "rose")
	c := MustDirect(t, s, a, b)
	other := MustGroup(t, s, "Elsewhere", a, b)
	att := MustAttachment(t, s, a, chatcore.StatusReady, 10, t0)
	for i := 1; i <= 10; i++ {
		var ids []string
		if i == 7 {
			ids = []string{att.ID}
		}
		MustSend(t, s, c.ID, a.ID, fmt.Sprint(i), at(time.Duration(i)*time.Second), ids...)
	}
	MustSend(t, s, other.ID, a.ID, "not here", t0)

	seqRange := func(from, to int64) []int64 {
		var out []int64
		step := int64(1)
		if to < from {
			step = -1
		}
		for s := from; s != to+step; s += step {
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name string
		q    chatcore.MessageQuery
		want []int64
	}{
		{"newest page", chatcore.MessageQuery{Limit: 3}, seqRange(10, 8)},
		{"default limit", chatcore.MessageQuery{}, seqRange(10, 1)},
		{"before", chatcore.MessageQuery{Before: 5, Limit: 3}, seqRange(4, 2)},
		{"before near the start", chatcore.MessageQuery{Before: 3, Limit: 5}, seqRange(2, 1)},
		{"before 1", chatcore.MessageQuery{Before: 1, Limit: 5}, nil},
		{"after", chatcore.MessageQuery{After: 6, Forward: true, Limit: 3}, seqRange(7, 9)},
		{"after 0", chatcore.MessageQuery{After: 0, Forward: true, Limit: 2}, seqRange(1, 2)},
		{"after the end", chatcore.MessageQuery{After: 10, Forward: true, Limit: 2}, nil},
		{"limit past the max", chatcore.MessageQuery{Limit: chatcore.MaxMessagesPage + 50}, seqRange(10, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := s.ListMessages(ctx(t), c.ID, tc.q)
			if err != nil {
				t.Fatalf("list messages: %v", err)
			}
			var got []int64
			for _, m := range msgs {
				got = append(got, m.Seq)
				if m.ConversationID != c.ID {
					t.Errorf("seq %d: got conversation %s, want %s", m.Seq, m.ConversationID, c.ID)
				}
				wantAtt := 0
				if m.Seq == 7 {
					wantAtt = 1
				}
				if m.Attachments == nil || len(m.Attachments) != wantAtt {
					t.Errorf("seq %d: got attachments %v, want %d (non-nil)", m.Seq, m.Attachments, wantAtt)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("seqs (-want +got):\n%s", diff)
			}
		})
	}
	msgs, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Before: 8, Limit: 1})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("list message 7: got %d, err %v", len(msgs), err)
	}
	if diff := cmp.Diff(att, msgs[0].Attachments[0]); diff != "" {
		t.Errorf("listed attachment (-want +got):\n%s", diff)
	}
}
