package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
)

func testListConversations(t *testing.T, s chatcore.Store) {
	me, bo, cy := MustUser(t, s, "vic"), MustUser(t, s, "wes"), MustUser(t, s, "xia")
	quiet := MustGroup(t, s, "Quiet", me, bo, cy)  // no messages: active at creation
	withBo := MustDirect(t, s, me, bo)             // active at +3s
	team := MustGroup(t, s, "Team", me, bo, cy)    // active at +5s
	notMine := MustGroup(t, s, "Not mine", bo, cy) // never listed for me
	MustSend(t, s, withBo.ID, bo.ID, "1", at(1*time.Second))
	MustSend(t, s, team.ID, cy.ID, "2", at(2*time.Second))
	MustSend(t, s, withBo.ID, me.ID, "3", at(3*time.Second)) // mine: never unread
	MustSend(t, s, team.ID, bo.ID, "4", at(4*time.Second))
	last := MustSend(t, s, team.ID, cy.ID, "5", at(5*time.Second))
	MustSend(t, s, notMine.ID, bo.ID, "x", at(6*time.Second))
	if _, _, err := s.AdvanceReceipt(ctx(t), team.ID, me.ID, 0, 1); err != nil {
		t.Fatalf("advance receipt: %v", err)
	}

	type row struct {
		ID       string
		LastBody string
		Unread   int64
		Members  int
	}
	rowsOf := func(convs []*chatcore.Conversation) []row {
		var out []row
		for _, c := range convs {
			r := row{ID: c.ID, Unread: c.UnreadCount, Members: len(c.Members)}
			if c.LastMessage != nil {
				r.LastBody = c.LastMessage.Body
			}
			out = append(out, r)
		}
		return out
	}
	teamRow := row{team.ID, "5", 2, 3} // seqs 2 and 3 are unread by me
	tests := []struct {
		name   string
		before time.Time
		limit  int
		want   []row
	}{
		{"all", time.Time{}, 10, []row{teamRow, {withBo.ID, "3", 1, 2}, {quiet.ID, "", 0, 3}}},
		{"limit", time.Time{}, 1, []row{teamRow}},
		{"before", at(5 * time.Second), 10, []row{{withBo.ID, "3", 1, 2}, {quiet.ID, "", 0, 3}}},
		{"before everything", t0, 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			convs, err := s.ListConversations(ctx(t), me.ID, tc.before, tc.limit)
			if err != nil {
				t.Fatalf("list conversations: %v", err)
			}
			if diff := cmp.Diff(tc.want, rowsOf(convs)); diff != "" {
				t.Errorf("conversations (-want +got):\n%s", diff)
			}
		})
	}

	view, err := s.ConversationForUser(ctx(t), team.ID, me.ID)
	if err != nil {
		t.Fatalf("conversation for user: %v", err)
	}
	if diff := cmp.Diff(last, view.LastMessage); diff != "" {
		t.Errorf("last message (-want +got):\n%s", diff)
	}
	if view.UnreadCount != 2 || view.LastSeq != 3 || !view.LastActivityAt.Equal(micro(at(5*time.Second))) {
		t.Errorf("team view: got unread %d last_seq %d activity %v, want 2 3 %v",
			view.UnreadCount, view.LastSeq, view.LastActivityAt, micro(at(5*time.Second)))
	}
	view, err = s.ConversationForUser(ctx(t), team.ID, cy.ID)
	if err != nil {
		t.Fatalf("conversation for user: %v", err)
	}
	if view.UnreadCount != 1 {
		t.Errorf("team as its most active sender: got unread %d, want 1", view.UnreadCount)
	}
}
