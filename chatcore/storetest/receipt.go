package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

func testAdvanceReceipt(t *testing.T, s chatcore.Store) {
	a, b, outsider := MustUser(t, s, "sam"), MustUser(t, s, "tia"), MustUser(t, s, "uma")
	c := MustDirect(t, s, a, b)
	for range 5 {
		MustSend(t, s, c.ID, a.ID, "hi", t0)
	}
	// Steps run in order against b's receipt; last_seq is 5.
	steps := []struct {
		name                    string
		delivered, read         int64
		wantDelivered, wantRead int64
		wantChanged             bool
	}{
		{"deliver 2", 2, 0, 2, 0, true},
		{"deliver 1 moves nothing", 1, 0, 2, 0, false},
		{"deliver 2 again moves nothing", 2, 0, 2, 0, false},
		{"read 3 raises delivered", 0, 3, 3, 3, true},
		{"read 1 moves nothing", 0, 1, 3, 3, false},
		{"deliver past last seq is clamped", 99, 0, 5, 3, true},
		{"read past last seq is clamped", 0, 99, 5, 5, true},
		{"all at the end moves nothing", 5, 5, 5, 5, false},
		{"zeros move nothing", 0, 0, 5, 5, false},
	}
	for _, st := range steps {
		r, changed, err := s.AdvanceReceipt(ctx(t), c.ID, b.ID, st.delivered, st.read)
		if err != nil {
			t.Fatalf("%s: advance receipt: %v", st.name, err)
		}
		want := chatcore.Receipt{ConversationID: c.ID, UserID: b.ID, DeliveredSeq: st.wantDelivered, ReadSeq: st.wantRead}
		r.ChangeID = 0 // the sync tests check change ids
		if r != want || changed != st.wantChanged {
			t.Errorf("%s: got %+v changed %v, want %+v changed %v", st.name, r, changed, want, st.wantChanged)
		}
	}
	conv, err := s.ConversationForUser(ctx(t), c.ID, a.ID)
	if err != nil {
		t.Fatalf("conversation for user: %v", err)
	}
	for _, m := range conv.Members {
		if m.UserID == b.ID && (m.DeliveredSeq != 5 || m.ReadSeq != 5) {
			t.Errorf("member receipt: got delivered %d read %d, want 5 5", m.DeliveredSeq, m.ReadSeq)
		}
	}

	for _, tc := range []struct {
		name       string
		conv, user string
	}{
		{"not a member", c.ID, outsider.ID},
		{"no such conversation", uuid.NewString(), a.ID},
	} {
		_, _, err := s.AdvanceReceipt(ctx(t), tc.conv, tc.user, 1, 1)
		if chatcore.ErrorCode(err) != chatcore.ENotFound {
			t.Errorf("%s: got %v, want not_found", tc.name, err)
		}
	}

	// A member who joins later starts with nothing unread.
	g := MustGroup(t, s, "Later", a, b)
	MustSend(t, s, g.ID, a.ID, "before you came", t0)
	if err := s.AddMembers(ctx(t), g.ID, []string{outsider.ID}, at(time.Hour)); err != nil {
		t.Fatalf("add members: %v", err)
	}
	view, err := s.ConversationForUser(ctx(t), g.ID, outsider.ID)
	if err != nil {
		t.Fatalf("conversation for new member: %v", err)
	}
	if view.UnreadCount != 0 {
		t.Errorf("new member unread count: got %d, want 0", view.UnreadCount)
	}
}
