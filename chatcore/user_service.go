package chatcore

import (
	"context"
	"log/slog"
	"strings"
)

// UserService looks accounts up. (Credentials and sessions are AuthService.)
type UserService interface {
	// User returns an account. Errors: ENotFound.
	User(ctx context.Context, callerID, id string) (*User, error)
	// FindUsers returns up to limit users whose username starts with the
	// case-insensitive prefix, ordered by username; limit 0 means
	// DefaultUsersPage, more than MaxUsersPage is cut to it.
	// Errors: EInvalid (empty prefix, negative limit).
	FindUsers(ctx context.Context, callerID, usernamePrefix string, limit int) ([]*User, error)
}

// userService implements UserService.
type userService struct{ *deps }

// User returns an account. Errors: ENotFound.
func (s *userService) User(ctx context.Context, callerID, id string) (*User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "user not found")
		}
		return nil, internalError("get user", err, slog.String("user_id", id))
	}
	if err := s.hideRoles(ctx, callerID, []*User{u}); err != nil {
		return nil, err
	}
	return u, nil
}

// FindUsers returns up to limit users whose username starts with the
// (case-insensitive) prefix, ordered by username. Limit 0 means
// DefaultUsersPage; larger than MaxUsersPage is cut to it.
// Errors: EInvalid (empty prefix, negative limit).
func (s *userService) FindUsers(ctx context.Context, callerID, usernamePrefix string, limit int) ([]*User, error) {
	prefix := normalizeUsername(usernamePrefix)
	if prefix == "" {
		return nil, Errorf(EInvalid, "username prefix is required")
	}
	if len(prefix) > MaxUsernameLen {
		return []*User{}, nil
	}
	limit, err := pageLimit(limit, DefaultUsersPage, MaxUsersPage)
	if err != nil {
		return nil, err
	}
	// Characters no username holds cannot match; refusing them early also
	// keeps LIKE wildcards away from the store.
	if strings.ContainsFunc(prefix, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-')
	}) {
		return []*User{}, nil
	}
	users, err := s.store.SearchUsers(ctx, prefix, limit)
	if err != nil {
		return nil, internalError("find users", err)
	}
	if users == nil {
		users = []*User{}
	}
	if err := s.hideRoles(ctx, callerID, users); err != nil {
		return nil, err
	}
	return users, nil
}
