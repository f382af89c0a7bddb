package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

func testUsers(t *testing.T, s chatcore.Store) {
	alice := &chatcore.User{ID: uuid.NewString(), Username: "Alice", DisplayName: "Alice A.", Role: chatcore.RoleUser, CreatedAt: t0}
	if err := s.CreateUser(ctx(t), alice, "argon2id$alice"); err != nil {
		t.Fatalf("create user: %v", err)
	}
	want := &chatcore.User{ID: alice.ID, Username: "alice", DisplayName: "Alice A.", Role: chatcore.RoleUser, CreatedAt: micro(t0)}
	got, err := s.UserByID(ctx(t), alice.ID)
	if err != nil {
		t.Fatalf("user by id: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UserByID (-want +got):\n%s", diff)
	}
	for _, name := range []string{"alice", "ALICE", "aLiCe"} {
		got, hash, err := s.UserByUsername(ctx(t), name)
		if err != nil {
			t.Fatalf("user by username %q: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("UserByUsername(%q) (-want +got):\n%s", name, diff)
		}
		if hash != "argon2id$alice" {
			t.Errorf("UserByUsername(%q) hash: got %q, want %q", name, hash, "argon2id$alice")
		}
	}

	tests := []struct {
		name     string
		username string
		code     string
	}{
		{"same name", "alice", chatcore.EConflict},
		{"other case", "ALICE", chatcore.EConflict},
		{"other name", "bob", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := &chatcore.User{ID: uuid.NewString(), Username: tc.username, Role: chatcore.RoleUser, CreatedAt: t0}
			wantCode(t, s.CreateUser(ctx(t), u, "h"), tc.code)
		})
	}

	_, err = s.UserByID(ctx(t), uuid.NewString())
	wantCode(t, err, chatcore.ENotFound)
	_, _, err = s.UserByUsername(ctx(t), "nobody")
	wantCode(t, err, chatcore.ENotFound)
}

func testSearchUsers(t *testing.T, s chatcore.Store) {
	for _, name := range []string{"bob", "Alice", "alex", "al_x", "albert", "carol"} {
		MustUser(t, s, name)
	}
	tests := []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"al", 10, []string{"al_x", "albert", "alex", "alice"}},
		{"AL", 10, []string{"al_x", "albert", "alex", "alice"}},
		{"al", 2, []string{"al_x", "albert"}},
		{"al_", 10, []string{"al_x"}}, // _ is literal, not a wildcard
		{"%", 10, nil},
		{"z", 10, nil},
		{"", 3, []string{"al_x", "albert", "alex"}},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			users, err := s.SearchUsers(ctx(t), tc.prefix, tc.limit)
			if err != nil {
				t.Fatalf("search users: %v", err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Username)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SearchUsers(%q, %d) (-want +got):\n%s", tc.prefix, tc.limit, diff)
			}
		})
	}
}

func testSetUserCredentials(t *testing.T, s chatcore.Store) {
	u := MustUser(t, s, "dave")
	if err := s.SetUserCredentials(ctx(t), u.ID, chatcore.RoleAdmin, "new-hash"); err != nil {
		t.Fatalf("set credentials: %v", err)
	}
	got, hash, err := s.UserByUsername(ctx(t), "dave")
	if err != nil {
		t.Fatalf("user by username: %v", err)
	}
	if got.Role != chatcore.RoleAdmin || hash != "new-hash" {
		t.Errorf("got role %q hash %q, want %q %q", got.Role, hash, chatcore.RoleAdmin, "new-hash")
	}
	wantCode(t, s.SetUserCredentials(ctx(t), uuid.NewString(), chatcore.RoleUser, "h"), chatcore.ENotFound)
}
