package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

const tokenCols = `hash, family_id, user_id, created_at, expires_at, used_at, revoked_at`

func scanToken(row interface{ Scan(...any) error }) (*chatcore.RefreshToken, error) {
	var t chatcore.RefreshToken
	var created, expires, used, revoked timeCol
	if err := row.Scan(&t.Hash, &t.FamilyID, &t.UserID, &created, &expires, &used, &revoked); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = created.T, expires.T
	t.UsedAt, t.RevokedAt = used.ptr(), revoked.ptr()
	return &t, nil
}

// CreateRefreshToken stores t; its times are normalised to UTC
// microseconds in place. EConflict if the hash exists, ENotFound if the
// user does not.
func (s *Store) CreateRefreshToken(ctx context.Context, t *chatcore.RefreshToken) error {
	t.CreatedAt, t.ExpiresAt = UTC(t.CreatedAt), UTC(t.ExpiresAt)
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO refresh_tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, t.FamilyID, t.UserID, s.t(t.CreatedAt), s.t(t.ExpiresAt), s.tNull(t.UsedAt), s.tNull(t.RevokedAt))
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err):
		return chatcore.Errorf(chatcore.EConflict, "refresh token exists")
	case s.d.IsForeignKeyViolation(err):
		return chatcore.Errorf(chatcore.ENotFound, "no user %s", t.UserID)
	default:
		return fmt.Errorf("create refresh token: %w", err)
	}
}

// UseRefreshToken marks the token used in one conditional UPDATE, so of two
// concurrent uses exactly one succeeds; the other (and any later replay)
// revokes the family and gets EUnauthorized.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (*chatcore.RefreshToken, error) {
	t, err := scanToken(s.write.QueryRowContext(ctx,
		`UPDATE refresh_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL AND revoked_at IS NULL RETURNING `+tokenCols,
		hash, s.t(UTC(now))))
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("use refresh token: %w", err)
	}
	old, err := s.RefreshTokenByHash(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("use refresh token: %w", err)
	}
	if err := s.RevokeRefreshFamily(ctx, old.FamilyID, now); err != nil {
		return nil, fmt.Errorf("use refresh token: %w", err)
	}
	return nil, chatcore.Errorf(chatcore.EUnauthorized, "refresh token reused; session revoked")
}

// RevokeRefreshFamily revokes every token of the family not revoked yet.
func (s *Store) RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error {
	if _, err := s.write.ExecContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
		familyID, s.t(UTC(now))); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// RevokeUserSessions revokes every live token of the user's families and
// returns those families.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, now time.Time) ([]string, error) {
	rows, err := s.write.QueryContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL RETURNING family_id`,
		userID, s.t(UTC(now)))
	if err != nil {
		return nil, fmt.Errorf("revoke user sessions: %w", err)
	}
	defer rows.Close()
	var fams []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, fmt.Errorf("revoke user sessions: %w", err)
		}
		if !slices.Contains(fams, f) {
			fams = append(fams, f)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("revoke user sessions: %w", err)
	}
	return fams, nil
}

// SessionActive reports whether the family has a token not revoked.
func (s *Store) SessionActive(ctx context.Context, familyID string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM (SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL LIMIT 1) t`,
		familyID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("session active: %w", err)
	}
	return n > 0, nil
}

// RefreshTokenByHash returns ENotFound if none.
func (s *Store) RefreshTokenByHash(ctx context.Context, hash string) (*chatcore.RefreshToken, error) {
	t, err := scanToken(s.read.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM refresh_tokens WHERE hash = $1`, hash))
	if err != nil {
		return nil, fmt.Errorf("refresh token: %w", notFound(err, "no such refresh token"))
	}
	return t, nil
}
