package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.ModerationStore = (*Store)(nil)

// adminUserCols are userCols plus disabled_at.
const adminUserCols = userCols + `, disabled_at`

func scanAdminUser(row interface{ Scan(...any) error }) (*chatcore.AdminUser, error) {
	var disabled timeCol
	u, err := scanUser(row, &disabled)
	if err != nil {
		return nil, err
	}
	return &chatcore.AdminUser{User: *u, DisabledAt: disabled.ptr()}, nil
}

// AdminUsers finds accounts by username prefix or exact id.
func (s *Store) AdminUsers(ctx context.Context, prefix string, limit int) ([]*chatcore.AdminUser, error) {
	pattern := likeEscaper.Replace(strings.ToLower(prefix)) + "%"
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+adminUserCols+` FROM users WHERE username LIKE $1 ESCAPE '\' OR id = $2 ORDER BY username LIMIT $3`,
		pattern, prefix, clampLimit(limit, chatcore.DefaultAdminUsersPage, chatcore.MaxAdminUsersPage))
	if err != nil {
		return nil, fmt.Errorf("admin users: %w", err)
	}
	defer rows.Close()
	out := []*chatcore.AdminUser{}
	for rows.Next() {
		u, err := scanAdminUser(rows)
		if err != nil {
			return nil, fmt.Errorf("admin users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("admin users: %w", err)
	}
	return out, nil
}

// AdminUser returns one account with its disabled time.
func (s *Store) AdminUser(ctx context.Context, id string) (*chatcore.AdminUser, error) {
	u, err := scanAdminUser(s.read.QueryRowContext(ctx, `SELECT `+adminUserCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("admin user: %w", notFound(err, "no user %s", id))
	}
	return u, nil
}

// SetUserDisabled sets or clears disabled_at.
func (s *Store) SetUserDisabled(ctx context.Context, id string, at *time.Time) error {
	var arg any
	if at != nil {
		arg = s.t(UTC(*at))
	}
	// Disabling twice keeps the first time.
	res, err := s.write.ExecContext(ctx,
		`UPDATE users SET disabled_at = CASE WHEN $2 = 1 THEN COALESCE(disabled_at, $3) ELSE NULL END WHERE id = $1`,
		id, boolInt(at != nil), arg)
	if err != nil {
		return fmt.Errorf("set user disabled: %w", err)
	}
	return mustAffect(res, "no user %s", id)
}

// UserDisabled reports whether disabled_at is set.
func (s *Store) UserDisabled(ctx context.Context, id string) (bool, error) {
	var disabled timeCol
	err := s.read.QueryRowContext(ctx, `SELECT disabled_at FROM users WHERE id = $1`, id).Scan(&disabled)
	if err != nil {
		return false, fmt.Errorf("user disabled: %w", notFound(err, "no user %s", id))
	}
	return disabled.Valid, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
