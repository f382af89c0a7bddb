package storetest

import (
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// testUnreadSkipsSystemAndOwn: system messages (someone joined, a rename),
// deleted messages (tombstones) and the reader's own messages never count
// as unread — not in the
// conversation list (which the sync feed's fresh device gets), not in one
// conversation's view, not in the push badge's total.
func testUnreadSkipsSystemAndOwn(t *testing.T, s chatcore.Store) {
	ds := devices(t, s)
	a, b, c := MustUser(t, s, "uma"), MustUser(t, s, "ulf"), MustUser(t, s, "uri")
	g := MustGroup(t, s, "Unread", a, b, c)
	system := func(actor *chatcore.User, ev chatcore.SystemEvent, when time.Duration) {
		t.Helper()
		m := newMessage(g.ID, actor.ID, "", "", at(when))
		ev.ActorID = actor.ID
		m.Kind, m.System = chatcore.MessageSystem, &ev
		if _, _, err := s.AppendMessage(ctx(t), m, nil); err != nil {
			t.Fatalf("append system message: %v", err)
		}
	}
	system(a, chatcore.SystemEvent{Event: chatcore.SystemMemberAdded, UserIDs: []string{c.ID}}, time.Second)
	MustSend(t, s, g.ID, c.ID, "from uri", at(2*time.Second))
	MustSend(t, s, g.ID, b.ID, "from ulf", at(3*time.Second)) // b's own
	system(c, chatcore.SystemEvent{Event: chatcore.SystemMemberLeft}, 4*time.Second)
	system(b, chatcore.SystemEvent{Event: chatcore.SystemMemberLeft}, 5*time.Second)
	gone := MustSend(t, s, g.ID, c.ID, "taken back", at(6*time.Second))
	if _, _, err := s.DeleteMessage(ctx(t), g.ID, gone.Seq, at(7*time.Second)); err != nil {
		t.Fatalf("delete message: %v", err)
	}

	// b: only uri's text is unread. a: uri's and ulf's texts.
	for _, tc := range []struct {
		who  *chatcore.User
		want int64
	}{{b, 1}, {a, 2}, {c, 1}} {
		convs, err := s.ListConversations(ctx(t), tc.who.ID, time.Time{}, 10)
		if err != nil || len(convs) != 1 {
			t.Fatalf("list conversations of %s: got %d, err %v", tc.who.Username, len(convs), err)
		}
		if got := convs[0].UnreadCount; got != tc.want {
			t.Errorf("%s's conversation list: unread %d, want %d", tc.who.Username, got, tc.want)
		}
		view, err := s.ConversationForUser(ctx(t), g.ID, tc.who.ID)
		if err != nil {
			t.Fatalf("conversation for %s: %v", tc.who.Username, err)
		}
		if got := view.UnreadCount; got != tc.want {
			t.Errorf("%s's conversation view: unread %d, want %d", tc.who.Username, got, tc.want)
		}
		n, err := ds.UnreadCount(ctx(t), tc.who.ID, 1000)
		if err != nil {
			t.Fatalf("unread count of %s: %v", tc.who.Username, err)
		}
		if int64(n) != tc.want {
			t.Errorf("%s's badge count: %d, want %d", tc.who.Username, n, tc.want)
		}
	}
}
