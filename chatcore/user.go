package chatcore

import (
	"context"
	"time"
)

// Role is what a user may do beyond chatting.
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// User is an account.
type User struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	// Role is shown to the user themself and to admins only: other
	// users' roles are left out (omitted) for everyone else.
	Role      Role      `json:"role,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// Avatar is nil (null) when the user has none (see account.go).
	Avatar *Avatar `json:"avatar"`
	// Deleted is set once the account was deleted (DELETE /v1/me).
	Deleted bool `json:"deleted,omitempty"`
}

// UserStore persists accounts. Usernames are unique, compared case-insensitively
// (stored lower-case).
type UserStore interface {
	// CreateUser inserts u (ID and CreatedAt set by the caller) with its password
	// hash. EConflict if the username is taken.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UserByID returns ENotFound if there is no such user.
	UserByID(ctx context.Context, id string) (*User, error)
	// UserByUsername returns the user and its password hash; ENotFound if none.
	UserByUsername(ctx context.Context, username string) (*User, string, error)
	// SearchUsers returns up to limit users whose username starts with prefix,
	// ordered by username.
	SearchUsers(ctx context.Context, prefix string, limit int) ([]*User, error)
	// SetUserCredentials sets the role and password hash of an existing user.
	SetUserCredentials(ctx context.Context, userID string, role Role, passwordHash string) error
	// DeletedUserIDs returns which of ids are deleted accounts.
	DeletedUserIDs(ctx context.Context, ids []string) (map[string]bool, error)
}

type userCtxKey struct{}

// WithUser returns a context carrying the authenticated user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userCtxKey{}, u)
}

// UserFromContext returns the authenticated user, or nil.
func UserFromContext(ctx context.Context) *User {
	u, _ := ctx.Value(userCtxKey{}).(*User)
	return u
}
