package storetest

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

func memberIDs(c *chatcore.Conversation) []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.UserID)
	}
	sort.Strings(out)
	return out
}

func sorted(ss ...string) []string {
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}

func testDirectConversation(t *testing.T, s chatcore.Store) {
	a, b, c := MustUser(t, s, "ann"), MustUser(t, s, "ben"), MustUser(t, s, "cat")
	first, created, err := s.FindOrCreateDirect(ctx(t), &chatcore.Conversation{ID: uuid.NewString(), CreatedBy: a.ID, CreatedAt: t0}, a.ID, b.ID)
	if err != nil || !created {
		t.Fatalf("first FindOrCreateDirect: created %v, err %v; want created", created, err)
	}
	if first.Kind != chatcore.KindDirect || first.LastSeq != 0 || !first.CreatedAt.Equal(micro(t0)) {
		t.Errorf("direct conversation: got kind %q last_seq %d created %v, want direct 0 %v", first.Kind, first.LastSeq, first.CreatedAt, micro(t0))
	}
	if diff := cmp.Diff(sorted(a.ID, b.ID), memberIDs(first)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	tests := []struct {
		name        string
		x, y        string
		wantCreated bool
		wantSame    bool
		code        string
	}{
		{"same pair", a.ID, b.ID, false, true, ""},
		{"reversed pair", b.ID, a.ID, false, true, ""},
		{"other pair", a.ID, c.ID, true, false, ""},
		{"with oneself", a.ID, a.ID, false, false, chatcore.EInvalid},
		{"unknown user", a.ID, uuid.NewString(), false, false, chatcore.ENotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, created, err := s.FindOrCreateDirect(ctx(t), &chatcore.Conversation{ID: uuid.NewString(), CreatedBy: tc.x, CreatedAt: t0}, tc.x, tc.y)
			wantCode(t, err, tc.code)
			if err != nil {
				return
			}
			if created != tc.wantCreated {
				t.Errorf("created: got %v, want %v", created, tc.wantCreated)
			}
			if same := got.ID == first.ID; same != tc.wantSame {
				t.Errorf("same conversation as the first: got %v, want %v", same, tc.wantSame)
			}
			if diff := cmp.Diff(sorted(tc.x, tc.y), memberIDs(got)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
	wantCode(t, s.AddMembers(ctx(t), first.ID, []string{c.ID}, t0), chatcore.EInvalid)
}

func testDirectConversationConcurrent(t *testing.T, s chatcore.Store) {
	a, b := MustUser(t, s, "gus"), MustUser(t, s, "hal")
	const n = 12
	ids := make([]string, n)
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			x, y := a.ID, b.ID
			if i%2 == 1 {
				x, y = y, x
			}
			c, ok, err := s.FindOrCreateDirect(ctx(t), &chatcore.Conversation{ID: uuid.NewString(), CreatedBy: x, CreatedAt: t0}, x, y)
			if err == nil {
				ids[i], created[i] = c.ID, ok
			}
			errs[i] = err
		})
	}
	wg.Wait()
	nCreated := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("call %d: got conversation %s, want %s (one per pair)", i, ids[i], ids[0])
		}
		if created[i] {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Errorf("got %d calls reporting created, want 1", nCreated)
	}
}

func testGroupMembership(t *testing.T, s chatcore.Store) {
	us := MustUsers(t, s, "g", 5)
	g := MustGroup(t, s, "Team", us[0], us[1], us[2])
	other := MustGroup(t, s, "Other", us[3], us[4])

	got, err := s.ConversationForUser(ctx(t), g.ID, us[1].ID)
	if err != nil {
		t.Fatalf("conversation for member: %v", err)
	}
	if got.Title != "Team" || got.Kind != chatcore.KindGroup || got.CreatedBy != us[0].ID {
		t.Errorf("conversation: got title %q kind %q created_by %s, want Team group %s", got.Title, got.Kind, got.CreatedBy, us[0].ID)
	}
	if diff := cmp.Diff(sorted(ids(us[:3])...), memberIDs(got)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	_, err = s.ConversationForUser(ctx(t), g.ID, us[3].ID)
	wantCode(t, err, chatcore.ENotFound)
	_, err = s.ConversationForUser(ctx(t), uuid.NewString(), us[0].ID)
	wantCode(t, err, chatcore.ENotFound)

	// Add: existing members are ignored, an unknown user adds nobody.
	if err := s.AddMembers(ctx(t), g.ID, []string{us[2].ID, us[3].ID}, at(time.Hour)); err != nil {
		t.Fatalf("add members: %v", err)
	}
	wantCode(t, s.AddMembers(ctx(t), g.ID, []string{us[4].ID, uuid.NewString()}, at(time.Hour)), chatcore.ENotFound)
	wantCode(t, s.AddMembers(ctx(t), uuid.NewString(), []string{us[4].ID}, at(time.Hour)), chatcore.ENotFound)
	// Remove.
	if err := s.RemoveMember(ctx(t), g.ID, us[1].ID); err != nil {
		t.Fatalf("remove member: %v", err)
	}
	wantCode(t, s.RemoveMember(ctx(t), g.ID, us[1].ID), chatcore.ENotFound)

	wantMembers := sorted(us[0].ID, us[2].ID, us[3].ID)
	gotIDs, err := s.MemberIDs(ctx(t), g.ID)
	if err != nil {
		t.Fatalf("member ids: %v", err)
	}
	if diff := cmp.Diff(wantMembers, sorted(gotIDs...)); diff != "" {
		t.Errorf("MemberIDs (-want +got):\n%s", diff)
	}
	_, err = s.MemberIDs(ctx(t), uuid.NewString())
	wantCode(t, err, chatcore.ENotFound)

	for _, tc := range []struct {
		name string
		conv string
		user *chatcore.User
		want bool
	}{
		{"creator", g.ID, us[0], true},
		{"removed", g.ID, us[1], false},
		{"added", g.ID, us[3], true},
		{"never", g.ID, us[4], false},
		{"other group", other.ID, us[4], true},
		{"unknown conversation", uuid.NewString(), us[0], false},
	} {
		got, err := s.IsMember(ctx(t), tc.conv, tc.user.ID)
		if err != nil {
			t.Fatalf("%s: is member: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: IsMember got %v, want %v", tc.name, got, tc.want)
		}
	}

	for _, tc := range []struct {
		user *chatcore.User
		want []string
	}{
		{us[0], sorted(us[2].ID, us[3].ID)},
		{us[1], []string{}},
		{us[3], sorted(us[0].ID, us[2].ID, us[4].ID)}, // in both groups, listed once each
		{us[4], []string{us[3].ID}},
	} {
		got, err := s.PeerIDs(ctx(t), tc.user.ID)
		if err != nil {
			t.Fatalf("peer ids: %v", err)
		}
		if diff := cmp.Diff(tc.want, sorted(got...), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("PeerIDs(%s) (-want +got):\n%s", tc.user.Username, diff)
		}
	}
}

func testGroupMemberCap(t *testing.T, s chatcore.Store) {
	us := MustUsers(t, s, "m", chatcore.MaxGroupMembers+1)
	c := &chatcore.Conversation{ID: uuid.NewString(), Kind: chatcore.KindGroup, Title: "Too big", CreatedBy: us[0].ID, CreatedAt: t0}
	wantCode(t, s.CreateConversation(ctx(t), c, ids(us)), chatcore.ETooLarge)

	full := MustGroup(t, s, "Full", us[:chatcore.MaxGroupMembers]...)
	got, err := s.MemberIDs(ctx(t), full.ID)
	if err != nil {
		t.Fatalf("member ids: %v", err)
	}
	if len(got) != chatcore.MaxGroupMembers {
		t.Errorf("members of a full group: got %d, want %d", len(got), chatcore.MaxGroupMembers)
	}
	last := us[chatcore.MaxGroupMembers].ID
	wantCode(t, s.AddMembers(ctx(t), full.ID, []string{last}, t0), chatcore.ETooLarge)
	if ok, err := s.IsMember(ctx(t), full.ID, last); err != nil || ok {
		t.Errorf("member past the cap: got %v (err %v), want false", ok, err)
	}
	// Adding someone already there is still fine.
	if err := s.AddMembers(ctx(t), full.ID, []string{us[0].ID}, t0); err != nil {
		t.Errorf("re-add an existing member to a full group: %v", err)
	}
}
