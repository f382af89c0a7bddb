package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

// testAccounts covers chatcore.AccountStore: sessions' descriptions and
// liveness, revoking all sessions but one, profile changes, and an
// account deletion from record to freed username.
func testAccounts(t *testing.T, s chatcore.Store) {
	as, ok := s.(chatcore.AccountStore)
	if !ok {
		t.Fatal("store is not a chatcore.AccountStore")
	}
	alice, bob := MustUser(t, s, "alice"), MustUser(t, s, "bob")
	phone, laptop := uuid.NewString(), uuid.NewString()
	for _, fam := range []string{phone, laptop} {
		if err := s.CreateRefreshToken(ctx(t), newToken(alice, fam)); err != nil {
			t.Fatal(err)
		}
	}
	if err := as.TouchSession(ctx(t), alice.ID, &chatcore.Session{ID: phone, DeviceName: "Pixel", Platform: "android", IP: "192.0.2.1", CreatedAt: t0, LastUsedAt: t0}); err != nil {
		t.Fatalf("touch session: %v", err)
	}
	if err := as.TouchSession(ctx(t), alice.ID, &chatcore.Session{ID: laptop, DeviceName: "Firefox", Platform: "web", CreatedAt: at(time.Minute), LastUsedAt: at(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	// A refresh: new address and time, the device name stays.
	if err := as.TouchSession(ctx(t), alice.ID, &chatcore.Session{ID: phone, IP: "198.51.100.7", CreatedAt: at(time.Hour), LastUsedAt: at(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// Someone else cannot take over alice's session row.
	if err := as.TouchSession(ctx(t), bob.ID, &chatcore.Session{ID: phone, DeviceName: "evil", CreatedAt: t0, LastUsedAt: at(2 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ss, err := as.ListSessions(ctx(t), alice.ID, at(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].ID != phone || ss[0].DeviceName != "Pixel" || ss[0].IP != "198.51.100.7" ||
		!ss[0].LastUsedAt.Equal(micro(at(time.Hour))) || !ss[0].CreatedAt.Equal(micro(t0)) || ss[1].ID != laptop {
		t.Fatalf("sessions: got %+v %+v, want phone (Pixel, refreshed from 198.51.100.7) then laptop", ss[0], ss[len(ss)-1])
	}
	if owner, err := as.SessionUser(ctx(t), laptop); err != nil || owner != alice.ID {
		t.Errorf("session user: got %q, %v; want alice", owner, err)
	}
	_, err = as.SessionUser(ctx(t), "nope")
	wantCode(t, err, chatcore.ENotFound)

	revoked, err := as.RevokeOtherSessions(ctx(t), alice.ID, phone, at(time.Hour))
	if err != nil || len(revoked) != 1 || revoked[0] != laptop {
		t.Fatalf("revoke other sessions: got %v, %v; want [laptop]", revoked, err)
	}
	if ok, _ := s.SessionActive(ctx(t), laptop); ok {
		t.Error("laptop session still active after RevokeOtherSessions")
	}
	if ok, _ := s.SessionActive(ctx(t), phone); !ok {
		t.Error("the kept session was revoked")
	}
	if ss, _ := as.ListSessions(ctx(t), alice.ID, at(time.Hour)); len(ss) != 1 || ss[0].ID != phone {
		t.Errorf("sessions after revoke: got %d, want the phone only", len(ss))
	}

	name := "Alice Liddell"
	u, err := as.UpdateProfile(ctx(t), alice.ID, chatcore.ProfileChange{DisplayName: &name, Avatar: &chatcore.Avatar{ID: "att-1", Blurhash: "LKO2?U%2Tw=w"}})
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != name || u.Avatar == nil || u.Avatar.ID != "att-1" || u.Avatar.URLs["avatar_96"] != "/v1/attachments/att-1/avatar_96" {
		t.Errorf("update profile: got %+v", u)
	}
	_, err = as.UpdateProfile(ctx(t), "nobody", chatcore.ProfileChange{DisplayName: &name})
	wantCode(t, err, chatcore.ENotFound)

	// Deletion: the profile is erased at once, the record is pending,
	// a second call changes nothing.
	conv := MustDirect(t, s, alice, bob)
	m1 := MustSend(t, s, conv.ID, alice.ID, "mine", t0)
	MustSend(t, s, conv.ID, bob.ID, "bob's", t0)
	m3 := MustSend(t, s, conv.ID, alice.ID, "mine too", t0)
	msgs, err := as.MessagesBySender(ctx(t), alice.ID, "", 10)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages by sender: got %d, %v; want 2", len(msgs), err)
	}
	want := map[string]bool{m1.ID: true, m3.ID: true}
	if !want[msgs[0].ID] || !want[msgs[1].ID] || msgs[0].ID >= msgs[1].ID {
		t.Errorf("messages by sender: got %s, %s; want alice's two in id order", msgs[0].ID, msgs[1].ID)
	}
	if next, _ := as.MessagesBySender(ctx(t), alice.ID, msgs[0].ID, 10); len(next) != 1 || next[0].ID != msgs[1].ID {
		t.Errorf("messages after the first: got %d, want the second only", len(next))
	}
	a := MustAttachment(t, s, alice, chatcore.StatusReady, 10, t0)
	MustAttachment(t, s, bob, chatcore.StatusReady, 10, t0)
	if ids, err := as.AttachmentIDsByUploader(ctx(t), alice.ID); err != nil || len(ids) != 1 || ids[0] != a.ID {
		t.Errorf("attachments by uploader: got %v, %v; want [%s]", ids, err, a.ID)
	}

	rec, created, err := as.MarkAccountDeleted(ctx(t), &chatcore.AccountDeletion{UserID: alice.ID, RequestedBy: alice.ID, RequestedAt: at(2 * time.Hour), UsernameFreeAt: at(48 * time.Hour)})
	if err != nil || !created || rec.Status != chatcore.DeletionPending || !rec.UsernameFreeAt.Equal(micro(at(48*time.Hour))) {
		t.Fatalf("mark deleted: got %+v, %v, %v", rec, created, err)
	}
	gone, err := s.UserByID(ctx(t), alice.ID)
	if err != nil || gone.DisplayName != chatcore.DeletedDisplayName || gone.Avatar != nil || !gone.Deleted || gone.Username != "alice" {
		t.Errorf("deleted user: got %+v, %v; want erased, username kept", gone, err)
	}
	if h, _ := as.PasswordHash(ctx(t), alice.ID); h != "" {
		t.Errorf("password hash kept: %q", h)
	}
	if ss, _ := as.ListSessions(ctx(t), alice.ID, at(time.Hour)); len(ss) != 0 {
		t.Errorf("sessions of a deleted account: %d", len(ss))
	}
	again, created, err := as.MarkAccountDeleted(ctx(t), &chatcore.AccountDeletion{UserID: alice.ID, RequestedBy: bob.ID, RequestedAt: at(3 * time.Hour), UsernameFreeAt: at(3 * time.Hour)})
	if err != nil || created || again.RequestedBy != alice.ID {
		t.Errorf("second mark: got %+v, %v, %v; want the first record", again, created, err)
	}
	_, _, err = as.MarkAccountDeleted(ctx(t), &chatcore.AccountDeletion{UserID: "nobody", RequestedAt: t0, UsernameFreeAt: t0})
	wantCode(t, err, chatcore.ENotFound)
	if ids, _ := as.PendingAccountDeletions(ctx(t), at(4*time.Hour), 10); len(ids) != 1 || ids[0] != alice.ID {
		t.Errorf("pending: got %v, want alice", ids)
	}
	if err := as.FinishAccountDeletion(ctx(t), alice.ID, at(5*time.Hour), 2, 1); err != nil {
		t.Fatal(err)
	}
	done, err := as.AccountDeletion(ctx(t), alice.ID)
	if err != nil || done.Status != chatcore.DeletionDone || done.FinishedAt == nil || done.Messages != 2 || done.Attachments != 1 {
		t.Errorf("finished deletion: got %+v, %v", done, err)
	}
	if ids, _ := as.PendingAccountDeletions(ctx(t), at(6*time.Hour), 10); len(ids) != 0 {
		t.Errorf("pending after finish: %v", ids)
	}
	_, err = as.AccountDeletion(ctx(t), bob.ID)
	wantCode(t, err, chatcore.ENotFound)

	// The username stays reserved during the cooling-off, then frees.
	if n, _ := as.FreeDeletedUsernames(ctx(t), at(47*time.Hour)); n != 0 {
		t.Errorf("freed %d usernames before the hold ended", n)
	}
	wantCode(t, s.CreateUser(ctx(t), &chatcore.User{ID: uuid.NewString(), Username: "alice", DisplayName: "x", CreatedAt: t0}, "h"), chatcore.EConflict)
	if n, err := as.FreeDeletedUsernames(ctx(t), at(48*time.Hour)); n != 1 || err != nil {
		t.Errorf("free usernames: got %d, %v; want 1", n, err)
	}
	if err := s.CreateUser(ctx(t), &chatcore.User{ID: uuid.NewString(), Username: "alice", DisplayName: "new alice", CreatedAt: t0}, "h"); err != nil {
		t.Errorf("register the freed username: %v", err)
	}
	if n, _ := as.FreeDeletedUsernames(ctx(t), at(49*time.Hour)); n != 0 {
		t.Errorf("freed again: %d", n)
	}
}
