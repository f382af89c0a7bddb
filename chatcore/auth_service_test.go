package chatcore_test

import (
	"context"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

func TestRegisterLogin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	res, err := h.svc.Auth.Register(ctx, "Alice", "password-1", "Alice A.")
	if err != nil {
		t.Fatal(err)
	}
	if res.User.Username != "alice" || res.User.DisplayName != "Alice A." || res.User.Role != chatcore.RoleUser ||
		res.AccessToken == "" || res.RefreshToken == "" || res.ExpiresIn != 900 {
		t.Errorf("got %+v %+v", res, res.User)
	}
	u, exp, err := h.svc.Auth.Authenticate(ctx, res.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != res.User.ID || !exp.Equal(h.clock.Now().Add(15*time.Minute)) {
		t.Errorf("got %s %v, want %s %v", u.ID, exp, res.User.ID, h.clock.Now().Add(15*time.Minute))
	}

	tests := []struct {
		name, username, password string
		wantCode                 string
	}{
		{"right", "alice", "password-1", ""},
		{"case-insensitive username", "ALICE", "password-1", ""},
		{"wrong password", "alice", "password-2", chatcore.EUnauthorized},
		{"unknown user", "mallory", "password-1", chatcore.EUnauthorized},
		{"empty", "", "", chatcore.EUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.svc.Auth.Login(ctx, tc.username, tc.password)
			wantCode(t, err, tc.wantCode)
			if err != nil {
				// Unknown user and wrong password must read the same.
				if msg := chatcore.ErrorMessage(err); msg != "invalid username or password" {
					t.Errorf("got message %q", msg)
				}
				return
			}
			if got.User.ID != res.User.ID {
				t.Errorf("got user %s, want %s", got.User.ID, res.User.ID)
			}
		})
	}

	_, err = h.svc.Auth.Register(ctx, "alice", "password-x", "")
	wantCode(t, err, chatcore.EConflict)
	_, err = h.svc.Auth.Register(ctx, "al", "password-x", "")
	wantCode(t, err, chatcore.EInvalid)
}

func TestAuthenticate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	res := h.MustRegister(t, "alice")
	tests := []struct {
		name    string
		token   string
		advance time.Duration
		wantMsg string
	}{
		{"valid", res.AccessToken, 0, ""},
		{"forged", res.AccessToken[:len(res.AccessToken)-4] + "AAAA", 0, "invalid token"},
		{"refresh token as access token", res.RefreshToken, 0, "invalid token"},
		{"expired", res.AccessToken, 16 * time.Minute, "token expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.Advance(tc.advance)
			_, _, err := h.svc.Auth.Authenticate(ctx, tc.token)
			if tc.wantMsg == "" {
				wantCode(t, err, "")
				return
			}
			wantCode(t, err, chatcore.EUnauthorized)
			if got := chatcore.ErrorMessage(err); got != tc.wantMsg {
				t.Errorf("got message %q, want %q", got, tc.wantMsg)
			}
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	r0 := h.MustRegister(t, "alice")

	r1, err := h.svc.Auth.Refresh(ctx, r0.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if r1.RefreshToken == r0.RefreshToken || r1.User.ID != r0.User.ID {
		t.Fatalf("got %+v, want a new token for the same user", r1)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, r1.AccessToken); err != nil {
		t.Fatalf("new access token: %v", err)
	}
	r2, err := h.svc.Auth.Refresh(ctx, r1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}

	// A thief replays the first token: the whole family dies, the
	// legitimate holder of r2 included.
	_, err = h.svc.Auth.Refresh(ctx, r0.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)
	_, err = h.svc.Auth.Refresh(ctx, r2.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)

	// Other sessions of the same user are unaffected.
	other, err := h.svc.Auth.Login(ctx, "alice", "password-alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Auth.Refresh(ctx, other.RefreshToken); err != nil {
		t.Fatalf("refresh of another session: %v", err)
	}

	for _, bad := range []string{"", "garbage", r0.AccessToken} {
		_, err = h.svc.Auth.Refresh(ctx, bad)
		wantCode(t, err, chatcore.EUnauthorized)
	}
}

func TestRefreshExpiryAndLogout(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	r0 := h.MustRegister(t, "alice")
	h.clock.Advance(chatcore.DefaultRefreshTTL + time.Second)
	_, err := h.svc.Auth.Refresh(ctx, r0.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)
	if got := chatcore.ErrorMessage(err); got != "refresh token expired" {
		t.Errorf("got message %q", got)
	}

	r1, err := h.svc.Auth.Login(ctx, "alice", "password-alice")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := h.svc.Auth.Refresh(ctx, r1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Auth.Logout(ctx, r2.RefreshToken); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Auth.Refresh(ctx, r2.RefreshToken)
	wantCode(t, err, chatcore.EUnauthorized)
	if err := h.svc.Auth.Logout(ctx, r2.RefreshToken); err != nil {
		t.Errorf("second logout: %v", err)
	}
	if err := h.svc.Auth.Logout(ctx, "unknown"); err != nil {
		t.Errorf("logout with unknown token: %v", err)
	}
}

func TestEnsureAdmin(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	u, err := h.svc.Auth.EnsureAdmin(ctx, "root", "admin-password", false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != chatcore.RoleAdmin {
		t.Errorf("got role %q, want admin", u.Role)
	}
	old, err := h.svc.Auth.Login(ctx, "root", "admin-password")
	if err != nil {
		t.Fatal(err)
	}
	// Same password again: nothing changes, the session stays.
	if _, err := h.svc.Auth.EnsureAdmin(ctx, "root", "admin-password", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, old.AccessToken); err != nil {
		t.Errorf("unchanged bootstrap revoked the session: %v", err)
	}
	// Again, with a new password: same account, new password, and every
	// session of the old password revoked (issue 12), its sockets closed.
	sock := &closable{client: newClient(u.ID, 4), id: "s1", reason: make(chan string, 1)}
	t.Cleanup(h.svc.Hub.Register(sock))
	u2, err := h.svc.Auth.EnsureAdmin(ctx, "root", "new-admin-password", false)
	if err != nil {
		t.Fatal(err)
	}
	if u2.ID != u.ID {
		t.Errorf("got id %s, want %s", u2.ID, u.ID)
	}
	select {
	case r := <-sock.reason:
		if r != chatcore.CloseSessionRevoked {
			t.Errorf("the admin's socket closed for %q, want %q", r, chatcore.CloseSessionRevoked)
		}
	case <-time.After(5 * time.Second):
		t.Error("the admin's socket stayed open after the bootstrap changed the password")
	}
	if _, err := h.svc.Auth.Login(ctx, "root", "admin-password"); chatcore.ErrorCode(err) != chatcore.EUnauthorized {
		t.Errorf("old password: got %v, want unauthorized", err)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, old.AccessToken); chatcore.ErrorCode(err) != chatcore.EUnauthorized {
		t.Errorf("access token of the old password: got %v, want unauthorized", err)
	}
	if _, err := h.svc.Auth.Refresh(ctx, old.RefreshToken); chatcore.ErrorCode(err) != chatcore.EUnauthorized {
		t.Errorf("refresh token of the old password: got %v, want unauthorized", err)
	}
	res, err := h.svc.Auth.Login(ctx, "root", "new-admin-password")
	if err != nil {
		t.Fatal(err)
	}
	if res.User.Role != chatcore.RoleAdmin {
		t.Errorf("got role %q, want admin", res.User.Role)
	}
	// An existing ordinary user is not promoted (whoever registered the
	// name first would become admin)...
	bob := h.MustRegister(t, "bob")
	if _, err := h.svc.Auth.EnsureAdmin(ctx, "bob", "bob-admin-pw", false); chatcore.ErrorCode(err) != chatcore.EConflict {
		t.Fatalf("promote existing user without the flag: got %v, want conflict", err)
	}
	if _, err := h.svc.Auth.Login(ctx, "bob", "bob-admin-pw"); chatcore.ErrorCode(err) != chatcore.EUnauthorized {
		t.Errorf("refused bootstrap changed bob's password: %v", err)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, bob.AccessToken); err != nil {
		t.Errorf("refused bootstrap touched bob's session: %v", err)
	}
	// ...unless explicitly allowed; then their sessions are revoked.
	u3, err := h.svc.Auth.EnsureAdmin(ctx, "bob", "bob-admin-pw", true)
	if err != nil {
		t.Fatal(err)
	}
	if u3.ID != bob.User.ID || u3.Role != chatcore.RoleAdmin {
		t.Errorf("got %+v, want bob promoted", u3)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, bob.AccessToken); chatcore.ErrorCode(err) != chatcore.EUnauthorized {
		t.Errorf("bob's pre-promotion access token: got %v, want unauthorized", err)
	}
}

// TestLogoutRevokesAccessToken: after logout the session's access token is
// refused at once (issue 12), not only once it expires; other sessions of
// the same user keep working.
func TestLogoutRevokesAccessToken(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	a := h.MustRegister(t, "carol")
	b, err := h.svc.Auth.Login(ctx, "carol", "password-carol")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.svc.Auth.Logout(ctx, a.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, a.AccessToken); chatcore.ErrorCode(err) != chatcore.EUnauthorized {
		t.Errorf("logged-out access token: got %v, want unauthorized", err)
	}
	if _, _, err := h.svc.Auth.Authenticate(ctx, b.AccessToken); err != nil {
		t.Errorf("other session: %v", err)
	}
}

func TestFindUsers(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, n := range []string{"anna", "annabel", "bob", "an_x"} {
		h.MustRegister(t, n)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"ann", []string{"anna", "annabel"}},
		{"ANN", []string{"anna", "annabel"}},
		{"zz", nil},
		{"%", nil},
		{"an_", []string{"an_x"}},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			got, err := h.svc.Users.FindUsers(ctx, "x", tc.prefix, 10)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range got {
				names = append(names, u.Username)
			}
			if len(names) != len(tc.want) || (len(names) > 0 && names[0] != tc.want[0]) {
				t.Errorf("got %q, want %q", names, tc.want)
			}
		})
	}
	_, err := h.svc.Users.FindUsers(ctx, "x", "", 10)
	wantCode(t, err, chatcore.EInvalid)
}
