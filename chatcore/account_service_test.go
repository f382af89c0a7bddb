package chatcore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

func mustAccounts(t *testing.T, h *harness, cfg chatcore.AccountConfig) chatcore.AccountService {
	t.Helper()
	as, err := chatcore.NewAccountService(h.svc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// TestChangePasswordKeepsOnlyTheCallersSession: after a password change
// the session that made it still works, every other one is refused at
// once (access and refresh tokens), and only the new password logs in.
func TestChangePasswordKeepsOnlyTheCallersSession(t *testing.T) {
	h := newHarness(t)
	as := mustAccounts(t, h, chatcore.AccountConfig{})
	ctx := context.Background()
	first := h.MustRegister(t, "alice")
	phoneCtx := chatcore.WithClientInfo(ctx, chatcore.ClientInfo{DeviceName: "Alice's\u202e phone", Platform: "ios", IP: "192.0.2.9"})
	other, err := h.svc.Auth.Login(phoneCtx, "alice", "password-alice")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := h.svc.Auth.SessionID(ctx, first.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := as.Sessions(ctx, first.User.ID, sid)
	if err != nil || len(ss) != 2 {
		t.Fatalf("sessions: got %d, %v; want 2", len(ss), err)
	}
	var phone *chatcore.Session
	for _, s := range ss {
		if s.ID != sid {
			phone = s
		} else if !s.Current {
			t.Error("the caller's session is not marked current")
		}
	}
	if phone == nil || phone.DeviceName != "Alice's phone" || phone.Platform != "ios" || phone.IP != "192.0.2.9" || phone.Current {
		t.Errorf("phone session: got %+v, want the declared device (bidi override dropped), platform and IP", phone)
	}

	wantCode(t, as.ChangePassword(ctx, first.User.ID, sid, "wrong password", "new-password-1"), chatcore.EForbidden)
	wantCode(t, as.ChangePassword(ctx, first.User.ID, sid, "password-alice", "short"), chatcore.EInvalid)
	if err := as.ChangePassword(ctx, first.User.ID, sid, "password-alice", "new-password-1"); err != nil {
		t.Fatalf("change password: %v", err)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, first.AccessToken); err != nil {
		t.Errorf("caller's session refused after its own password change: %v", err)
	}
	_, _, err = h.svc.Auth.Authenticate(ctx, other.AccessToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Refresh(ctx, other.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Login(ctx, "alice", "password-alice")
	wantCode(t, err, chatcore.EUnauthorized)
	if _, err := h.svc.Auth.Login(ctx, "alice", "new-password-1"); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}

// TestRevokeSession: a user logs one of their sessions out; someone else's
// session id is not found.
func TestRevokeSession(t *testing.T) {
	h := newHarness(t)
	as := mustAccounts(t, h, chatcore.AccountConfig{})
	ctx := context.Background()
	alice, bob := h.MustRegister(t, "alice"), h.MustRegister(t, "bob")
	bobSID, _ := h.svc.Auth.SessionID(ctx, bob.AccessToken)
	aliceSID, _ := h.svc.Auth.SessionID(ctx, alice.AccessToken)
	wantCode(t, as.RevokeSession(ctx, alice.User.ID, bobSID), chatcore.ENotFound)
	if _, _, err := h.svc.Auth.Authenticate(ctx, bob.AccessToken); err != nil {
		t.Fatalf("bob's session hurt by alice's attempt: %v", err)
	}
	if err := as.RevokeSession(ctx, alice.User.ID, aliceSID); err != nil {
		t.Fatal(err)
	}
	_, _, err := h.svc.Auth.Authenticate(ctx, alice.AccessToken)
	wantCode(t, err, chatcore.EUnauthorized)
	if ss, _ := as.Sessions(ctx, alice.User.ID, ""); len(ss) != 0 {
		t.Errorf("revoked session still listed: %+v", ss[0])
	}
}

// TestNamesAreCleaned: display names and titles are stored in NFC without
// zero-width or bidi control characters; other control characters and
// empty names are refused.
func TestNamesAreCleaned(t *testing.T) {
	h := newHarness(t)
	as := mustAccounts(t, h, chatcore.AccountConfig{})
	ctx := context.Background()
	alice, bob := h.MustRegister(t, "alice"), h.MustRegister(t, "bob")
	name := "  Jose\u0301\u200b \u202egnp.exe\u202c "
	u, err := as.UpdateProfile(ctx, alice.User.ID, chatcore.ProfileUpdate{DisplayName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "José gnp.exe" {
		t.Errorf("display name: got %q, want %q", u.DisplayName, "José gnp.exe")
	}
	for _, bad := range []string{"tab\there", "\u200b\u200b", " ", strings.Repeat("x", chatcore.MaxDisplayNameRunes+1)} {
		_, err := as.UpdateProfile(ctx, alice.User.ID, chatcore.ProfileUpdate{DisplayName: &bad})
		wantCode(t, err, chatcore.EInvalid)
	}
	c, _, err := h.svc.Conversations.CreateConversation(ctx, alice.User.ID, []string{bob.User.ID, h.MustRegister(t, "carol").User.ID}, "Cafe\u0301\u2066 team")
	if err != nil {
		t.Fatal(err)
	}
	if c.Title != "Café team" {
		t.Errorf("title: got %q, want %q", c.Title, "Café team")
	}
	res, err := h.svc.Auth.Register(ctx, "dave", "password-dave", "\u202eevil")
	if err != nil || res.User.DisplayName != "evil" {
		t.Errorf("register display name: got %+v, %v; want %q", res, err, "evil")
	}
}

// TestDeleteAccount: the password is checked; after deletion the account's
// tokens and password stop working, its messages are tombstones, others'
// stay, the profile reads "Deleted account" and the username stays taken.
func TestDeleteAccount(t *testing.T) {
	h := newHarness(t)
	as := mustAccounts(t, h, chatcore.AccountConfig{})
	ctx := context.Background()
	alice, bob := h.MustRegister(t, "alice"), h.MustRegister(t, "bob")
	conv, _, err := h.svc.Conversations.CreateConversation(ctx, alice.User.ID, []string{bob.User.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct{ from, body string }{{alice.User.ID, "secret of alice"}, {bob.User.ID, "bob says hi"}} {
		if _, _, err := h.svc.Messages.Send(ctx, m.from, chatcore.SendRequest{ConversationID: conv.ID, ClientID: m.body, Body: m.body}); err != nil {
			t.Fatal(err)
		}
	}

	// The export first: alice's messages and nothing of bob's.
	var buf bytes.Buffer
	if err := as.Export(ctx, alice.User.ID, &buf); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format   string `json:"format"`
		User     chatcore.User
		Messages []struct {
			Body string `json:"body"`
		} `json:"messages"`
		Conversations []map[string]any `json:"conversations"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	if doc.Format != chatcore.ExportFormat || len(doc.Messages) != 1 || doc.Messages[0].Body != "secret of alice" || len(doc.Conversations) != 1 {
		t.Errorf("export: got %s", buf.String())
	}
	if strings.Contains(buf.String(), "bob says hi") {
		t.Error("alice's export holds bob's message")
	}

	_, err = as.DeleteSelf(ctx, alice.User.ID, "wrong password")
	wantCode(t, err, chatcore.EForbidden)
	d, err := as.DeleteSelf(ctx, alice.User.ID, "password-alice")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != chatcore.DeletionDone || d.Messages != 1 || d.RequestedBy != alice.User.ID {
		t.Errorf("deletion: got %+v, want done with 1 message tombstoned", d)
	}
	_, _, err = h.svc.Auth.Authenticate(ctx, alice.AccessToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Login(ctx, "alice", "password-alice")
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Register(ctx, "alice", "password-other", "")
	wantCode(t, err, chatcore.EConflict)
	u, err := h.svc.Users.User(ctx, bob.User.ID, alice.User.ID)
	if err != nil || u.DisplayName != chatcore.DeletedDisplayName || !u.Deleted {
		t.Errorf("deleted user as bob sees it: got %+v, %v", u, err)
	}
	msgs, err := h.svc.Messages.Messages(ctx, bob.User.ID, conv.ID, chatcore.MessageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		switch {
		case m.SenderID == alice.User.ID && (m.DeletedAt == nil || m.Body != ""):
			t.Errorf("alice's message kept: %+v", m)
		case m.SenderID == bob.User.ID && m.Body != "bob says hi":
			t.Errorf("bob's message changed: %+v", m)
		}
	}
	// An admin deleting again gets the same record.
	again, err := as.Delete(ctx, alice.User.ID, bob.User.ID)
	if err != nil || again.RequestedBy != alice.User.ID || again.Status != chatcore.DeletionDone {
		t.Errorf("delete again: got %+v, %v", again, err)
	}
	_, err = as.Delete(ctx, "nobody", bob.User.ID)
	wantCode(t, err, chatcore.ENotFound)
}

// TestDeleteAccountKeepsMessagesWhenConfigured: with KeepMessages the
// deleted account's messages stay readable.
func TestDeleteAccountKeepsMessagesWhenConfigured(t *testing.T) {
	h := newHarness(t)
	as := mustAccounts(t, h, chatcore.AccountConfig{KeepMessages: true})
	ctx := context.Background()
	alice, bob := h.MustRegister(t, "alice"), h.MustRegister(t, "bob")
	conv, _, _ := h.svc.Conversations.CreateConversation(ctx, alice.User.ID, []string{bob.User.ID}, "")
	if _, _, err := h.svc.Messages.Send(ctx, alice.User.ID, chatcore.SendRequest{ConversationID: conv.ID, ClientID: "1", Body: "kept"}); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Delete(ctx, alice.User.ID, alice.User.ID); err != nil {
		t.Fatal(err)
	}
	msgs, _ := h.svc.Messages.Messages(ctx, bob.User.ID, conv.ID, chatcore.MessageQuery{})
	if len(msgs) == 0 || msgs[len(msgs)-1].Body != "kept" && msgs[0].Body != "kept" {
		t.Errorf("messages after deletion with KeepMessages: %+v", msgs)
	}
}
