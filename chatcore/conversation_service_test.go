package chatcore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

func TestCreateDirect(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "alice").User
	b := h.MustRegister(t, "bob").User

	c1, created, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !created || c1.Kind != chatcore.KindDirect || len(c1.Members) != 2 {
		t.Fatalf("got created=%v %+v, want a new direct with two members", created, c1)
	}
	// Idempotent per pair, from either side, with the caller listed or not.
	for _, tc := range []struct {
		name    string
		caller  string
		members []string
	}{
		{"same caller", a.ID, []string{b.ID}},
		{"other side", b.ID, []string{a.ID}},
		{"caller listed", a.ID, []string{a.ID, b.ID, b.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, created, err := h.svc.Conversations.CreateConversation(ctx, tc.caller, tc.members, "")
			if err != nil {
				t.Fatal(err)
			}
			if created || c.ID != c1.ID {
				t.Errorf("got created=%v id=%s, want false %s", created, c.ID, c1.ID)
			}
		})
	}

	tests := []struct {
		name    string
		members []string
		title   string
		want    string
	}{
		{"only self", []string{a.ID}, "", chatcore.EInvalid},
		{"nobody", nil, "", chatcore.EInvalid},
		{"unknown user", []string{"nope"}, "", chatcore.EInvalid},
		{"too many", make1000(), "", chatcore.ETooLarge},
		{"title with control chars", []string{b.ID, "x"}, "a\x07", chatcore.EInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := h.svc.Conversations.CreateConversation(ctx, a.ID, tc.members, tc.title)
			wantCode(t, err, tc.want)
		})
	}
}

func make1000() []string {
	ids := make([]string, chatcore.MaxGroupMembers)
	for i := range ids {
		ids[i] = fmt.Sprintf("user-%d", i)
	}
	return ids
}

func TestGroupRules(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "alice").User
	b := h.MustRegister(t, "bob").User
	c := h.MustRegister(t, "carol").User
	d := h.MustRegister(t, "dave").User
	e := h.MustRegister(t, "erin").User

	g, created, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID, c.ID}, " Team ")
	if err != nil {
		t.Fatal(err)
	}
	if !created || g.Kind != chatcore.KindGroup || g.Title != "Team" || len(g.Members) != 3 || g.CreatedBy != a.ID {
		t.Fatalf("got %+v", g)
	}
	// A group is never deduplicated.
	g2, created, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID, c.ID}, "Team")
	if err != nil || !created || g2.ID == g.ID {
		t.Fatalf("second group: got %v %v %v, want a new one", g2, created, err)
	}

	// A plain member may not add; the owner may.
	if _, err := h.svc.Conversations.AddMembers(ctx, b.ID, g.ID, []string{d.ID}); chatcore.ErrorCode(err) != chatcore.EForbidden {
		t.Fatalf("plain member adds: got %v, want forbidden", err)
	}
	got, err := h.svc.Conversations.AddMembers(ctx, a.ID, g.ID, []string{d.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Members) != 4 {
		t.Errorf("got %d members, want 4", len(got.Members))
	}
	direct, _, err := h.svc.Conversations.CreateConversation(ctx, a.ID, []string{b.ID}, "")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"non-member adds", func() error { _, err := h.svc.Conversations.AddMembers(ctx, e.ID, g.ID, []string{a.ID}); return err }, chatcore.ENotFound},
		{"add unknown user", func() error { _, err := h.svc.Conversations.AddMembers(ctx, a.ID, g.ID, []string{"nope"}); return err }, chatcore.EInvalid},
		{"add to direct", func() error {
			_, err := h.svc.Conversations.AddMembers(ctx, a.ID, direct.ID, []string{c.ID})
			return err
		}, chatcore.EForbidden},
		{"non-creator removes other", func() error { return h.svc.Conversations.RemoveMember(ctx, b.ID, g.ID, c.ID) }, chatcore.EForbidden},
		{"leave direct", func() error { return h.svc.Conversations.RemoveMember(ctx, a.ID, direct.ID, a.ID) }, chatcore.EForbidden},
		{"non-member reads", func() error { _, err := h.svc.Conversations.Conversation(ctx, e.ID, g.ID); return err }, chatcore.ENotFound},
		{"member leaves", func() error { return h.svc.Conversations.RemoveMember(ctx, d.ID, g.ID, d.ID) }, ""},
		{"left member reads", func() error { _, err := h.svc.Conversations.Conversation(ctx, d.ID, g.ID); return err }, chatcore.ENotFound},
		{"creator removes", func() error { return h.svc.Conversations.RemoveMember(ctx, a.ID, g.ID, c.ID) }, ""},
		{"remove non-member", func() error { return h.svc.Conversations.RemoveMember(ctx, a.ID, g.ID, e.ID) }, chatcore.ENotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.do(), tc.want)
		})
	}
	final, err := h.svc.Conversations.Conversation(ctx, a.ID, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Members) != 2 {
		t.Errorf("got %d members, want 2 (alice, bob)", len(final.Members))
	}

	list, err := h.svc.Conversations.Conversations(ctx, a.ID, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Errorf("got %d conversations, want 3", len(list))
	}
}

func TestCreateDirectConcurrent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "alice").User
	b := h.MustRegister(t, "bob").User
	var wg sync.WaitGroup
	ids := make([]string, 8)
	created := make([]bool, 8)
	for i := range ids {
		wg.Go(func() {
			caller, other := a.ID, b.ID
			if i%2 == 1 {
				caller, other = other, caller
			}
			c, ok, err := h.svc.Conversations.CreateConversation(ctx, caller, []string{other}, "")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i], created[i] = c.ID, ok
		})
	}
	wg.Wait()
	n := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Errorf("got conversation %s and %s for one pair", ids[0], ids[i])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Errorf("got created=true %d times, want 1", n)
	}
}
