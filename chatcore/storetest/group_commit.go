package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/sqlstore"
)

// GroupCommitStore is a store with sqlstore's group commit.
type GroupCommitStore interface {
	chatcore.Store
	SetGroupCommit(sqlstore.GroupCommit)
	GroupCommitStats() (batches, messages int64)
}

// GroupCommitAdapter is what RunGroupCommit needs of an adapter.
type GroupCommitAdapter struct {
	// Open returns a fresh, migrated, empty store closed when t ends.
	Open func(t *testing.T) GroupCommitStore
	// RejectPoison installs, in the store Open returned, a trigger that
	// fails the insert of any message whose body starts with "poison".
	RejectPoison func(t *testing.T, s GroupCommitStore)
}

// RunGroupCommit runs the group commit tests. The batches are made
// deterministic with a linger long enough for every concurrent sender of
// a test to join the first batch.
func RunGroupCommit(t *testing.T, a GroupCommitAdapter) {
	t.Run("ConcurrentSendersConsecutiveSeqs", func(t *testing.T) { testGroupCommitSeqs(t, a) })
	t.Run("FailedBatch", func(t *testing.T) { testGroupCommitFailure(t, a) })
	t.Run("NotMember", func(t *testing.T) { testGroupCommitNotMember(t, a) })
}

// linger is how long the tests' batches gather.
const linger = 300 * time.Millisecond

type sendResult struct {
	req     *chatcore.Message
	msg     *chatcore.Message
	created bool
	err     error
}

// sendAll appends msgs concurrently, released together, and returns
// their results in order.
func sendAll(t *testing.T, s chatcore.Store, msgs []*chatcore.Message) []sendResult {
	t.Helper()
	res := make([]sendResult, len(msgs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, m := range msgs {
		wg.Go(func() {
			<-start
			msg, created, err := s.AppendMessage(ctx(t), m, nil)
			res[i] = sendResult{req: m, msg: msg, created: created, err: err}
		})
	}
	close(start)
	wg.Wait()
	return res
}

func testGroupCommitSeqs(t *testing.T, a GroupCommitAdapter) {
	s := a.Open(t)
	s.SetGroupCommit(sqlstore.GroupCommit{Linger: linger})
	us := MustUsers(t, s, "g", 4)
	convs := []*chatcore.Conversation{MustGroup(t, s, "One", us...), MustGroup(t, s, "Two", us...), MustGroup(t, s, "Three", us...)}
	// Conversation Two has one message already: its batch continues at 2.
	MustSend(t, s, convs[1].ID, us[0].ID, "before", t0)
	const each = 12
	var msgs []*chatcore.Message
	for i := range each {
		for _, c := range convs {
			msgs = append(msgs, newMessage(c.ID, us[i%len(us)].ID, uuid.NewString(), fmt.Sprintf("%s %d", c.Title, i), at(time.Duration(i)*time.Second)))
		}
	}
	// A retry sent at the same time as its original is stored once.
	first := newMessage(convs[0].ID, us[0].ID, "twice", "dup", t0)
	retry := newMessage(convs[0].ID, us[0].ID, "twice", "dup", t0)
	msgs = append(msgs, first, retry)
	b0, n0 := s.GroupCommitStats()
	res := sendAll(t, s, msgs)

	bySeq := map[string]map[int64]string{}
	changeIDs := map[int64]string{} // the sync feed's: one each, never 0
	for _, r := range res {
		if r.err != nil {
			t.Fatalf("append %q: %v", r.req.Body, r.err)
		}
		if r.req.ClientID == "twice" {
			continue
		}
		if !r.created {
			t.Fatalf("append %q: created false, want true", r.req.Body)
		}
		if prev, dup := changeIDs[r.msg.ChangeID]; dup || r.msg.ChangeID <= 0 {
			t.Fatalf("append %q: change id %d (also given to %q); want a new one", r.req.Body, r.msg.ChangeID, prev)
		}
		changeIDs[r.msg.ChangeID] = r.msg.Body
		if bySeq[r.msg.ConversationID] == nil {
			bySeq[r.msg.ConversationID] = map[int64]string{}
		}
		if prev, dup := bySeq[r.msg.ConversationID][r.msg.Seq]; dup {
			t.Fatalf("seq %d given to %q and %q", r.msg.Seq, prev, r.msg.Body)
		}
		bySeq[r.msg.ConversationID][r.msg.Seq] = r.msg.Body
	}
	a0, a1 := res[len(res)-2], res[len(res)-1]
	if a0.created == a1.created || a0.msg.ID != a1.msg.ID || a0.msg.Seq != a1.msg.Seq {
		t.Fatalf("same client_id sent twice at once: got (created %v, id %s, seq %d) and (created %v, id %s, seq %d), want one created and the other its copy",
			a0.created, a0.msg.ID, a0.msg.Seq, a1.created, a1.msg.ID, a1.msg.Seq)
	}
	bySeq[convs[0].ID][a0.msg.Seq] = "dup"
	bySeq[convs[1].ID][1] = "before"
	wantLast := map[string]int64{convs[0].ID: each + 1, convs[1].ID: each + 1, convs[2].ID: each}
	for _, c := range convs {
		want := wantLast[c.ID]
		for seq := int64(1); seq <= want; seq++ {
			if _, ok := bySeq[c.ID][seq]; !ok {
				t.Errorf("%s: seq %d not given out: seqs must be consecutive (got %v)", c.Title, seq, bySeq[c.ID])
			}
		}
		if got := lastSeq(t, s, c.ID, us[0].ID); got != want {
			t.Errorf("%s: last seq %d, want %d", c.Title, got, want)
		}
		stored, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Forward: true, Limit: chatcore.MaxMessagesPage})
		if err != nil {
			t.Fatalf("list messages: %v", err)
		}
		if int64(len(stored)) != want {
			t.Errorf("%s: %d messages stored, want %d", c.Title, len(stored), want)
		}
		for i, m := range stored {
			if m.Seq != int64(i+1) || bySeq[c.ID][m.Seq] != m.Body {
				t.Errorf("%s: stored #%d is seq %d %q, want seq %d %q", c.Title, i, m.Seq, m.Body, i+1, bySeq[c.ID][int64(i+1)])
			}
		}
	}
	b1, n1 := s.GroupCommitStats()
	// All but the retry (held back from its original's batch) arrive within
	// the linger: at most a few batches, far fewer than the messages.
	if got := b1 - b0; got < 1 || got > 4 || n1-n0 != int64(len(msgs)) {
		t.Errorf("%d messages sent at once went through %d batch transactions holding %d, want 1 to 4 holding all",
			len(msgs), got, n1-n0)
	}
}

func testGroupCommitFailure(t *testing.T, a GroupCommitAdapter) {
	s := a.Open(t)
	s.SetGroupCommit(sqlstore.GroupCommit{Linger: linger})
	us := MustUsers(t, s, "f", 3)
	c := MustGroup(t, s, "Fragile", us...)
	a.RejectPoison(t, s)

	t.Run("OnePoisonedMessage", func(t *testing.T) {
		// The batch fails as a whole; the others are then stored alone.
		var msgs []*chatcore.Message
		for i := range 6 {
			body := fmt.Sprintf("fine %d", i)
			if i == 2 {
				body = "poison pill"
			}
			msgs = append(msgs, newMessage(c.ID, us[i%3].ID, uuid.NewString(), body, t0))
		}
		b0, n0 := s.GroupCommitStats()
		res := sendAll(t, s, msgs)
		seqs := map[int64]bool{}
		for i, r := range res {
			if i == 2 {
				if r.err == nil || r.msg != nil {
					t.Errorf("poisoned message: got msg %v, err nil; want an error", r.msg)
				}
				continue
			}
			if r.err != nil || !r.created {
				t.Fatalf("append %q: created %v, err %v; want stored", r.req.Body, r.created, r.err)
			}
			seqs[r.msg.Seq] = true
		}
		for seq := int64(1); seq <= 5; seq++ {
			if !seqs[seq] {
				t.Errorf("seq %d not given out (got %v): gapless after a failed batch", seq, seqs)
			}
		}
		if got := lastSeq(t, s, c.ID, us[0].ID); got != 5 {
			t.Errorf("last seq %d, want 5", got)
		}
		if b1, n1 := s.GroupCommitStats(); b1 != b0 || n1 != n0 {
			t.Errorf("the failed batch counted as %d committed batches of %d messages, want none", b1-b0, n1-n0)
		}
	})

	t.Run("EveryMessageRefused", func(t *testing.T) {
		var msgs []*chatcore.Message
		for i := range 5 {
			msgs = append(msgs, newMessage(c.ID, us[i%3].ID, uuid.NewString(), fmt.Sprintf("poison %d", i), t0))
		}
		before := lastSeq(t, s, c.ID, us[0].ID)
		for _, r := range sendAll(t, s, msgs) {
			if r.err == nil {
				t.Errorf("append %q: got seq %d, want an error", r.req.Body, r.msg.Seq)
			}
			if code := chatcore.ErrorCode(r.err); code != chatcore.EInternal {
				t.Errorf("append %q: got code %q (%v), want %q", r.req.Body, code, r.err, chatcore.EInternal)
			}
		}
		if got := lastSeq(t, s, c.ID, us[0].ID); got != before {
			t.Errorf("last seq moved from %d to %d, want no seq consumed", before, got)
		}
		stored, err := s.ListMessages(ctx(t), c.ID, chatcore.MessageQuery{Forward: true, After: before, Limit: chatcore.MaxMessagesPage})
		if err != nil {
			t.Fatalf("list messages: %v", err)
		}
		if len(stored) != 0 {
			t.Errorf("%d refused messages stored, want none", len(stored))
		}
	})
}
