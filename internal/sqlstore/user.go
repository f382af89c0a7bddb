package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parley-chat/parley/chatcore"
)

const userCols = `id, username, display_name, role, created_at, avatar_id, avatar_blurhash, deleted_at`

func scanUser(row interface{ Scan(...any) error }, extra ...any) (*chatcore.User, error) {
	var u chatcore.User
	var created, deleted timeCol
	var avatarID, avatarHash string
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.Role, &created, &avatarID, &avatarHash, &deleted}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.CreatedAt = created.T
	u.Avatar, u.Deleted = chatcore.NewAvatar(avatarID, avatarHash), deleted.Valid
	return &u, nil
}

// CreateUser inserts u. The username is stored lower-case and u is updated
// to the stored form (lower-case username, UTC microsecond CreatedAt).
// EConflict if the username or id is taken.
func (s *Store) CreateUser(ctx context.Context, u *chatcore.User, passwordHash string) error {
	u.Username = strings.ToLower(u.Username)
	u.CreatedAt = UTC(u.CreatedAt)
	if u.Role == "" {
		u.Role = chatcore.RoleUser
	}
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO users (id, username, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ID, u.Username, u.DisplayName, string(u.Role), passwordHash, s.t(u.CreatedAt))
	if s.d.IsUniqueViolation(err) {
		return chatcore.Errorf(chatcore.EConflict, "username %q is taken", u.Username)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// UserByID returns ENotFound if there is no such user.
func (s *Store) UserByID(ctx context.Context, id string) (*chatcore.User, error) {
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("user by id: %w", notFound(err, "no user %s", id))
	}
	return u, nil
}

// UserByUsername looks the username up case-insensitively and returns the
// user with its password hash; ENotFound if none.
func (s *Store) UserByUsername(ctx context.Context, username string) (*chatcore.User, string, error) {
	var hash string
	u, err := scanUser(s.read.QueryRowContext(ctx,
		`SELECT `+userCols+`, password_hash FROM users WHERE username = $1`, strings.ToLower(username)), &hash)
	if err != nil {
		return nil, "", fmt.Errorf("user by username: %w", notFound(err, "no user %q", username))
	}
	return u, hash, nil
}

// likeEscaper escapes LIKE wildcards so a prefix matches literally.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchUsers returns up to limit (default 20, at most 100) users whose
// username starts with prefix (case-insensitive), ordered by username.
func (s *Store) SearchUsers(ctx context.Context, prefix string, limit int) ([]*chatcore.User, error) {
	pattern := likeEscaper.Replace(strings.ToLower(prefix)) + "%"
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+userCols+` FROM users WHERE username LIKE $1 ESCAPE '\' ORDER BY username LIMIT $2`,
		pattern, clampLimit(limit, chatcore.DefaultUsersPage, chatcore.MaxUsersPage))
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	users := []*chatcore.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("search users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return users, nil
}

// SetUserCredentials sets the role and password hash; ENotFound if no such user.
func (s *Store) SetUserCredentials(ctx context.Context, userID string, role chatcore.Role, passwordHash string) error {
	res, err := s.write.ExecContext(ctx,
		`UPDATE users SET role = $2, password_hash = $3 WHERE id = $1`, userID, string(role), passwordHash)
	if err != nil {
		return fmt.Errorf("set user credentials: %w", err)
	}
	return mustAffect(res, "no user %s", userID)
}

// mustAffect returns ENotFound when res changed no row.
func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("rows affected: %w", err)
	}
	if n == 0 {
		return chatcore.Errorf(chatcore.ENotFound, format, args...)
	}
	return nil
}

// DeletedUserIDs returns which of ids are deleted accounts.
func (s *Store) DeletedUserIDs(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	cond, args := s.in("id", 1, ids)
	got, err := scanStrings(s.read.QueryContext(ctx, `SELECT id FROM users WHERE deleted_at IS NOT NULL AND `+cond, args...))
	if err != nil {
		return nil, fmt.Errorf("deleted user ids: %w", err)
	}
	for _, id := range got {
		out[id] = true
	}
	return out, nil
}
