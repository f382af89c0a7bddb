package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

func newToken(user *chatcore.User, family string) *chatcore.RefreshToken {
	return &chatcore.RefreshToken{
		Hash: uuid.NewString(), FamilyID: family, UserID: user.ID,
		CreatedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour),
	}
}

func testRefreshTokenRotation(t *testing.T, s chatcore.Store) {
	u := MustUser(t, s, "erin")
	family := uuid.NewString()
	first := newToken(u, family)
	if err := s.CreateRefreshToken(ctx(t), first); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	stored, err := s.RefreshTokenByHash(ctx(t), first.Hash)
	if err != nil {
		t.Fatalf("refresh token by hash: %v", err)
	}
	want := &chatcore.RefreshToken{Hash: first.Hash, FamilyID: family, UserID: u.ID, CreatedAt: micro(t0), ExpiresAt: micro(t0.Add(30 * 24 * time.Hour))}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("RefreshTokenByHash (-want +got):\n%s", diff)
	}

	// Use rotates: the token is marked used and a new one joins the family.
	used, err := s.UseRefreshToken(ctx(t), first.Hash, at(time.Minute))
	if err != nil {
		t.Fatalf("use refresh token: %v", err)
	}
	if used.UsedAt == nil || !used.UsedAt.Equal(micro(at(time.Minute))) || used.UserID != u.ID || used.FamilyID != family {
		t.Errorf("used token: got %+v, want used at %v by %s in %s", used, micro(at(time.Minute)), u.ID, family)
	}
	second := newToken(u, family)
	if err := s.CreateRefreshToken(ctx(t), second); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	other := newToken(u, uuid.NewString()) // another device's login
	if err := s.CreateRefreshToken(ctx(t), other); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}

	// Replaying the rotated token revokes the whole family, not the other one.
	_, err = s.UseRefreshToken(ctx(t), first.Hash, at(2*time.Minute))
	wantCode(t, err, chatcore.EUnauthorized)
	for _, tc := range []struct {
		name    string
		hash    string
		revoked bool
	}{
		{"replayed", first.Hash, true},
		{"successor", second.Hash, true},
		{"other family", other.Hash, false},
	} {
		got, err := s.RefreshTokenByHash(ctx(t), tc.hash)
		if err != nil {
			t.Fatalf("%s: refresh token by hash: %v", tc.name, err)
		}
		if (got.RevokedAt != nil) != tc.revoked {
			t.Errorf("%s: got revoked_at %v, want revoked %v", tc.name, got.RevokedAt, tc.revoked)
		}
	}
	_, err = s.UseRefreshToken(ctx(t), second.Hash, at(3*time.Minute))
	wantCode(t, err, chatcore.EUnauthorized)
	if _, err := s.UseRefreshToken(ctx(t), other.Hash, at(3*time.Minute)); err != nil {
		t.Errorf("use token of other family: %v", err)
	}

	_, err = s.UseRefreshToken(ctx(t), "no-such-hash", at(time.Minute))
	wantCode(t, err, chatcore.ENotFound)
	_, err = s.RefreshTokenByHash(ctx(t), "no-such-hash")
	wantCode(t, err, chatcore.ENotFound)

	third := newToken(u, uuid.NewString())
	if err := s.CreateRefreshToken(ctx(t), third); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	if err := s.RevokeRefreshFamily(ctx(t), third.FamilyID, at(time.Hour)); err != nil {
		t.Fatalf("revoke family: %v", err)
	}
	_, err = s.UseRefreshToken(ctx(t), third.Hash, at(2*time.Hour))
	wantCode(t, err, chatcore.EUnauthorized)
}

func testRefreshTokenConcurrentUse(t *testing.T, s chatcore.Store) {
	u := MustUser(t, s, "frank")
	tok := newToken(u, uuid.NewString())
	if err := s.CreateRefreshToken(ctx(t), tok); err != nil {
		t.Fatalf("create refresh token: %v", err)
	}
	const n = 8
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := s.UseRefreshToken(ctx(t), tok.Hash, t0)
			codes[i] = chatcore.ErrorCode(err)
		})
	}
	wg.Wait()
	ok, unauthorized := 0, 0
	for _, c := range codes {
		switch c {
		case "":
			ok++
		case chatcore.EUnauthorized:
			unauthorized++
		default:
			t.Errorf("concurrent use: unexpected code %q", c)
		}
	}
	if ok != 1 || unauthorized != n-1 {
		t.Errorf("concurrent use: got %d successes and %d unauthorized, want 1 and %d", ok, unauthorized, n-1)
	}
}

// testRevokeUserSessions: revoking a user's sessions revokes every family of
// that user (and only theirs), and SessionActive follows.
func testRevokeUserSessions(t *testing.T, s chatcore.Store) {
	u := MustUser(t, s, "gus")
	other := MustUser(t, s, "hana")
	fam1, fam2, fam3 := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, tok := range []*chatcore.RefreshToken{newToken(u, fam1), newToken(u, fam1), newToken(u, fam2), newToken(other, fam3)} {
		if err := s.CreateRefreshToken(ctx(t), tok); err != nil {
			t.Fatalf("create refresh token: %v", err)
		}
	}
	for _, f := range []string{fam1, fam2, fam3} {
		if ok, err := s.SessionActive(ctx(t), f); err != nil || !ok {
			t.Fatalf("SessionActive(%s) before revoking = %v, %v; want true", f, ok, err)
		}
	}
	fams, err := s.RevokeUserSessions(ctx(t), u.ID, at(time.Minute))
	if err != nil {
		t.Fatalf("revoke user sessions: %v", err)
	}
	slices.Sort(fams)
	want := []string{fam1, fam2}
	slices.Sort(want)
	if !slices.Equal(fams, want) {
		t.Errorf("revoked families %v, want %v", fams, want)
	}
	for f, want := range map[string]bool{fam1: false, fam2: false, fam3: true, uuid.NewString(): false} {
		if ok, err := s.SessionActive(ctx(t), f); err != nil || ok != want {
			t.Errorf("SessionActive(%s) = %v, %v; want %v", f, ok, err, want)
		}
	}
	if fams, err := s.RevokeUserSessions(ctx(t), u.ID, at(time.Hour)); err != nil || len(fams) != 0 {
		t.Errorf("second revoke = %v, %v; want none", fams, err)
	}
}
