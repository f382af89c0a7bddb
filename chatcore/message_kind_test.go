package chatcore_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
)

// TestRolesAndSystemMessages: the creator owns a group, only owners and
// admins change membership, the owner sets roles, every change is a
// system message with its own seq, and a leaving owner hands over.
func TestRolesAndSystemMessages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "anna").User
	b := h.MustRegister(t, "ben").User
	c := h.MustRegister(t, "cleo").User
	d := h.MustRegister(t, "dan").User
	g, _, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID, c.ID}, "Trip")
	if err != nil {
		t.Fatal(err)
	}
	bSock := h.connect(t, b.ID)

	wantCode(t, func() error { _, err := h.svc.Conversations.AddMembers(ctx, b.ID, g.ID, []string{d.ID}); return err }(), chatcore.EForbidden)
	wantCode(t, func() error {
		_, err := h.svc.Conversations.SetMemberRole(ctx, b.ID, g.ID, c.ID, chatcore.GroupAdmin)
		return err
	}(), chatcore.EForbidden)
	wantCode(t, func() error { _, err := h.svc.Conversations.SetMemberRole(ctx, a.ID, g.ID, b.ID, "king"); return err }(), chatcore.EInvalid)
	wantCode(t, func() error {
		_, err := h.svc.Conversations.SetMemberRole(ctx, a.ID, g.ID, a.ID, chatcore.GroupMember)
		return err
	}(), chatcore.EForbidden)
	wantCode(t, func() error {
		_, err := h.svc.Conversations.SetMemberRole(ctx, a.ID, g.ID, d.ID, chatcore.GroupAdmin)
		return err
	}(), chatcore.ENotFound)

	if _, err := h.svc.Conversations.SetMemberRole(ctx, a.ID, g.ID, b.ID, chatcore.GroupAdmin); err != nil {
		t.Fatal(err)
	}
	f := MustNextFrame(t, bSock)
	if f.Type != chatcore.FrameMessage || f.Message.Kind != chatcore.MessageSystem || f.Message.System.Event != chatcore.SystemRoleChanged || f.Message.Seq != 2 { // 1 is conversation_created
		t.Fatalf("role change frame: got %+v", f.Message)
	}
	// Now an admin, b adds d and removes c; an admin cannot remove the owner.
	if _, err := h.svc.Conversations.AddMembers(ctx, b.ID, g.ID, []string{d.ID}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, h.svc.Conversations.RemoveMember(ctx, b.ID, g.ID, a.ID), chatcore.EForbidden)
	if err := h.svc.Conversations.RemoveMember(ctx, b.ID, g.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	// The owner leaves: b, the only admin, inherits.
	if err := h.svc.Conversations.RemoveMember(ctx, a.ID, g.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	msgs, err := h.svc.Messages.Messages(ctx, d.ID, g.ID, chatcore.MessageQuery{Forward: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []chatcore.SystemEvent
	for i, m := range msgs {
		if m.Seq != int64(i+1) || m.Kind != chatcore.MessageSystem || m.System == nil {
			t.Fatalf("message %d: got %+v, want system message seq %d", i, m, i+1)
		}
		got = append(got, *m.System)
	}
	want := []chatcore.SystemEvent{
		{Event: chatcore.SystemConversationCreated, ActorID: a.ID, UserIDs: []string{b.ID, c.ID}, Title: "Trip"},
		{Event: chatcore.SystemRoleChanged, ActorID: a.ID, UserIDs: []string{b.ID}, Role: chatcore.GroupAdmin},
		{Event: chatcore.SystemMemberAdded, ActorID: b.ID, UserIDs: []string{d.ID}},
		{Event: chatcore.SystemMemberRemoved, ActorID: b.ID, UserIDs: []string{c.ID}},
		{Event: chatcore.SystemMemberLeft, ActorID: a.ID},
		{Event: chatcore.SystemRoleChanged, ActorID: a.ID, UserIDs: []string{b.ID}, Role: chatcore.GroupOwner},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("system messages (-want +got):\n%s", diff)
	}
	conv, err := h.svc.Conversations.Conversation(ctx, b.ID, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range conv.Members {
		if m.UserID == b.ID && m.Role != chatcore.GroupOwner {
			t.Errorf("b's role: got %q, want owner", m.Role)
		}
	}
}

// TestMentionsAndKinds: @username resolves to members only, @all only for
// admins; location is validated; system is never accepted from clients.
func TestMentionsAndKinds(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "anna").User
	b := h.MustRegister(t, "ben.k").User
	c := h.MustRegister(t, "cleo").User
	out := h.MustRegister(t, "outsider").User
	g, _, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID, c.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	send := func(from string, req chatcore.SendRequest) (*chatcore.Message, error) {
		req.ConversationID = g.ID
		if req.ClientID == "" {
			req.ClientID = req.Body + string(req.Kind)
		}
		m, _, err := h.svc.Messages.Send(ctx, from, req)
		return m, err
	}
	tests := []struct {
		name, from, body string
		want             []string
	}{
		{"member and punctuation", a.ID, "hi @Ben.K, and @cleo.", []string{b.ID, c.ID}},
		{"non-member, unknown, self, email", a.ID, "@outsider @nobody @anna x@cleo", []string{}},
		{"repeated", a.ID, "@cleo @cleo", []string{c.ID}},
		{"all by the owner", a.ID, "@all lunch?", []string{b.ID, c.ID}},
		{"all by a plain member", b.ID, "@all lunch!", []string{}},
	}
	_ = out
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := send(tc.from, chatcore.SendRequest{Body: tc.body})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, m.Mentions); diff != "" {
				t.Errorf("mentions (-want +got):\n%s", diff)
			}
		})
	}

	m, err := send(a.ID, chatcore.SendRequest{Kind: chatcore.MessageLocation, Location: &chatcore.Location{Latitude: 48.85, Longitude: 2.35, Name: "Paris"}})
	if err != nil || m.Kind != chatcore.MessageLocation || m.Location.Name != "Paris" {
		t.Fatalf("location: got %+v, %v", m, err)
	}
	for name, req := range map[string]chatcore.SendRequest{
		"latitude out of range":  {Kind: chatcore.MessageLocation, Location: &chatcore.Location{Latitude: 91}},
		"longitude out of range": {Kind: chatcore.MessageLocation, Location: &chatcore.Location{Longitude: -180.5}},
		"location missing":       {Kind: chatcore.MessageLocation},
		"system from a client":   {Kind: chatcore.MessageSystem, Body: "x"},
		"unknown kind":           {Kind: "sticker", Body: "x"},
		"media without files":    {Kind: chatcore.MessageMedia, Body: "x"},
	} {
		_, err := send(a.ID, req)
		if chatcore.ErrorCode(err) != chatcore.EInvalid {
			t.Errorf("%s: got %v, want invalid", name, err)
		}
	}
}
