package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
)

// testMessageKinds: kind, mentions, location and system payloads
// round-trip on both append paths (with and without attachments), and a
// system message takes the next seq like any other.
func testMessageKinds(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "kia"), MustUser(t, s, "kob")
	g := MustGroup(t, s, "Kinds", a, b)

	loc := newMessage(g.ID, a.ID, "l1", "", at(time.Second))
	loc.Kind, loc.Location = chatcore.MessageLocation, &chatcore.Location{Latitude: -33.86, Longitude: 151.21, Name: "Opera", Address: "Bennelong Point"}
	loc.Mentions = []string{b.ID}
	sys := newMessage(g.ID, a.ID, "", "", at(2*time.Second))
	sys.Kind, sys.System = chatcore.MessageSystem, &chatcore.SystemEvent{Event: chatcore.SystemMemberAdded, ActorID: a.ID, UserIDs: []string{b.ID}}
	plain := newMessage(g.ID, b.ID, "p1", "hi", at(3*time.Second))
	plain.Kind = ""
	for i, m := range []*chatcore.Message{loc, sys, plain} {
		got, created, err := s.AppendMessage(ctx(t), m, nil)
		if err != nil || !created || got.Seq != int64(i+1) {
			t.Fatalf("append %d: got %+v created %v err %v, want seq %d", i, got, created, err, i+1)
		}
	}
	list, err := s.ListMessages(ctx(t), g.ID, chatcore.MessageQuery{Forward: true})
	if err != nil || len(list) != 3 {
		t.Fatalf("list: got %d messages, err %v", len(list), err)
	}
	if diff := cmp.Diff(loc.Location, list[0].Location); diff != "" || list[0].Kind != chatcore.MessageLocation {
		t.Errorf("location message kind %q (-want +got):\n%s", list[0].Kind, diff)
	}
	if diff := cmp.Diff([]string{b.ID}, list[0].Mentions); diff != "" {
		t.Errorf("mentions (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(sys.System, list[1].System); diff != "" || list[1].Kind != chatcore.MessageSystem {
		t.Errorf("system message kind %q (-want +got):\n%s", list[1].Kind, diff)
	}
	if list[2].Kind != chatcore.MessageText || list[2].Mentions == nil || len(list[2].Mentions) != 0 || list[2].System != nil || list[2].Location != nil {
		t.Errorf("plain message: got kind %q mentions %v system %v location %v, want text, [] and nothing else",
			list[2].Kind, list[2].Mentions, list[2].System, list[2].Location)
	}
}

// testMemberRoles: a group's creator is its owner, roles can be set, and
// when the owner leaves the oldest admin (else the oldest member) takes over.
func testMemberRoles(t *testing.T, s chatcore.Store) {
	us := MustUsers(t, s, "r", 4)
	g := MustGroup(t, s, "Roles", us[0], us[1], us[2])
	if err := s.AddMembers(ctx(t), g.ID, []string{us[3].ID}, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	roles := func(reader string) map[string]chatcore.MemberRole {
		t.Helper()
		c, err := s.ConversationForUser(ctx(t), g.ID, reader)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]chatcore.MemberRole{}
		for _, m := range c.Members {
			out[m.UserID] = m.Role
		}
		return out
	}
	want := map[string]chatcore.MemberRole{us[0].ID: chatcore.GroupOwner, us[1].ID: chatcore.GroupMember, us[2].ID: chatcore.GroupMember, us[3].ID: chatcore.GroupMember}
	if diff := cmp.Diff(want, roles(us[1].ID)); diff != "" {
		t.Fatalf("roles after create (-want +got):\n%s", diff)
	}
	wantCode(t, s.SetMemberRole(ctx(t), g.ID, "nobody", chatcore.GroupAdmin), chatcore.ENotFound)
	// us[3] joined last but is the only admin: it inherits.
	if err := s.SetMemberRole(ctx(t), g.ID, us[3].ID, chatcore.GroupAdmin); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveMember(ctx(t), g.ID, us[0].ID); err != nil {
		t.Fatal(err)
	}
	want = map[string]chatcore.MemberRole{us[1].ID: chatcore.GroupMember, us[2].ID: chatcore.GroupMember, us[3].ID: chatcore.GroupOwner}
	if diff := cmp.Diff(want, roles(us[1].ID)); diff != "" {
		t.Fatalf("roles after the owner left (-want +got):\n%s", diff)
	}
	// No admin left: the oldest member inherits (us[1] and us[2] joined
	// together: the lower user id breaks the tie).
	if err := s.RemoveMember(ctx(t), g.ID, us[3].ID); err != nil {
		t.Fatal(err)
	}
	heir, other := us[1].ID, us[2].ID
	if other < heir {
		heir, other = other, heir
	}
	want = map[string]chatcore.MemberRole{heir: chatcore.GroupOwner, other: chatcore.GroupMember}
	if diff := cmp.Diff(want, roles(us[2].ID)); diff != "" {
		t.Fatalf("roles after the second owner left (-want +got):\n%s", diff)
	}
	wantCode(t, s.RemoveMember(ctx(t), g.ID, us[3].ID), chatcore.ENotFound)
}
