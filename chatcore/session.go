package chatcore

import (
	"context"
	"time"
)

// RefreshToken is the stored form of an opaque refresh token: only its hash is
// kept. Tokens of one login form a family; each use rotates to a new token in
// the same family, and presenting a token that was already used revokes the
// whole family (a stolen token was replayed).
type RefreshToken struct {
	Hash      string // hex sha256 of the token the client holds
	FamilyID  string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time // set when rotated
	RevokedAt *time.Time // set when the family is revoked
}

// SessionStore persists refresh tokens.
type SessionStore interface {
	CreateRefreshToken(ctx context.Context, t *RefreshToken) error
	// UseRefreshToken atomically marks the token with this hash used and
	// returns it. ENotFound if no such token. If the token was already used or
	// revoked, the whole family is revoked and EUnauthorized is returned.
	// Expiry is the caller's check.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (*RefreshToken, error)
	// RevokeRefreshFamily revokes every token of the family.
	RevokeRefreshFamily(ctx context.Context, familyID string, now time.Time) error
	// RefreshTokenByHash returns ENotFound if none.
	RefreshTokenByHash(ctx context.Context, hash string) (*RefreshToken, error)
	// RevokeUserSessions revokes every token of every family of a user
	// (password or role changed) and returns the families it revoked.
	RevokeUserSessions(ctx context.Context, userID string, now time.Time) ([]string, error)
	// SessionActive reports whether a family still has a token that is not
	// revoked: false once it was logged out, revoked or caught replaying.
	SessionActive(ctx context.Context, familyID string) (bool, error)
}
