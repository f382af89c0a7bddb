package chatcore

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// Admin user listing limits.
const (
	DefaultAdminUsersPage = 50
	MaxAdminUsersPage     = 200
	maxAdminQueryBytes    = 64
)

// msgAccountDisabled is what a disabled account gets on login.
const msgAccountDisabled = "this account is disabled; contact the server's administrators"

// AdminUser is an account as admins see it: with its role and whether it
// is disabled.
type AdminUser struct {
	User
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// ModerationStore persists what admins change about accounts.
type ModerationStore interface {
	// AdminUsers returns up to limit accounts whose username starts with
	// prefix or whose id is exactly it, ordered by username; an empty
	// prefix lists every account.
	AdminUsers(ctx context.Context, prefix string, limit int) ([]*AdminUser, error)
	// AdminUser returns one account; ENotFound if none.
	AdminUser(ctx context.Context, id string) (*AdminUser, error)
	// SetUserDisabled disables the account at *at, or re-enables it when
	// at is nil; ENotFound if no such user.
	SetUserDisabled(ctx context.Context, id string, at *time.Time) error
	// UserDisabled reports whether the account is disabled.
	UserDisabled(ctx context.Context, id string) (bool, error)
}

// ModerationService is what admins do to accounts.
type ModerationService interface {
	// AdminUsers finds accounts by username prefix or exact id (empty q:
	// all, by username); limit 0 = DefaultAdminUsersPage. Errors:
	// EForbidden (not an admin), EInvalid.
	AdminUsers(ctx context.Context, callerID, q string, limit int) ([]*AdminUser, error)
	// DisableUser disables an account: every session is revoked at once
	// (on every node), every socket closed (4010), and logins answer
	// account_disabled until it is enabled again. Disabling twice is a
	// no-op. Errors: EForbidden (not an admin, or oneself), ENotFound.
	DisableUser(ctx context.Context, callerID, userID string) (*AdminUser, error)
	// EnableUser lets a disabled account log in again (its old sessions
	// stay revoked). Errors: EForbidden (not an admin), ENotFound.
	EnableUser(ctx context.Context, callerID, userID string) (*AdminUser, error)
}

// moderationService implements ModerationService.
type moderationService struct {
	*deps
	mod  ModerationStore
	auth *authService
}

func (s *moderationService) AdminUsers(ctx context.Context, callerID, q string, limit int) ([]*AdminUser, error) {
	if err := s.requireAdmin(ctx, callerID); err != nil {
		return nil, err
	}
	q = strings.ToLower(strings.TrimSpace(q))
	if len(q) > maxAdminQueryBytes {
		return nil, Errorf(EInvalid, "q must be at most %d bytes", maxAdminQueryBytes)
	}
	limit, err := pageLimit(limit, DefaultAdminUsersPage, MaxAdminUsersPage)
	if err != nil {
		return nil, err
	}
	us, err := s.mod.AdminUsers(ctx, q, limit)
	if err != nil {
		return nil, internalError("admin users", err)
	}
	if us == nil {
		us = []*AdminUser{}
	}
	return us, nil
}

func (s *moderationService) DisableUser(ctx context.Context, callerID, userID string) (*AdminUser, error) {
	if err := s.requireAdmin(ctx, callerID); err != nil {
		return nil, err
	}
	if userID == callerID {
		return nil, Errorf(EForbidden, "you cannot disable your own account")
	}
	now := s.clock.Now().UTC()
	// The flag first, then the sessions: a login racing this either sees
	// the flag (Login checks after issuing) or is revoked below.
	if err := s.mod.SetUserDisabled(ctx, userID, &now); err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "user not found")
		}
		return nil, internalError("disable user", err, slog.String("user_id", userID))
	}
	if err := s.auth.revokeUserSessions(ctx, userID); err != nil {
		return nil, internalError("disable user", err, slog.String("user_id", userID))
	}
	s.closeSockets(ctx, userID, nil, CloseAccountDisabled)
	return s.adminUser(ctx, userID)
}

func (s *moderationService) EnableUser(ctx context.Context, callerID, userID string) (*AdminUser, error) {
	if err := s.requireAdmin(ctx, callerID); err != nil {
		return nil, err
	}
	if err := s.mod.SetUserDisabled(ctx, userID, nil); err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "user not found")
		}
		return nil, internalError("enable user", err, slog.String("user_id", userID))
	}
	return s.adminUser(ctx, userID)
}

func (s *moderationService) adminUser(ctx context.Context, id string) (*AdminUser, error) {
	u, err := s.mod.AdminUser(ctx, id)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "user not found")
		}
		return nil, internalError("admin user", err, slog.String("user_id", id))
	}
	return u, nil
}

// refuseDisabled is called by Login after it issued a session: for a
// disabled account it revokes that session and returns EAccountDisabled.
// Checking after issuing closes the race with DisableUser (which sets the
// flag before revoking every session).
func (s *authService) refuseDisabled(ctx context.Context, res *AuthResult) error {
	mod, ok := s.store.(ModerationStore)
	if !ok {
		return nil
	}
	disabled, err := mod.UserDisabled(ctx, res.User.ID)
	if err != nil {
		return internalError("login", err)
	}
	if !disabled {
		return nil
	}
	if err := s.revokeUserSessions(ctx, res.User.ID); err != nil {
		return internalError("login", err)
	}
	return Errorf(EAccountDisabled, msgAccountDisabled)
}

// addSafety builds the safety services the store supports.
func (s *Services) addSafety(cfg ServiceConfig) {
	d := s.deps
	switch {
	case cfg.MaxSocketsPerUser == 0:
		d.maxSockets = DefaultMaxSocketsPerUser
	case cfg.MaxSocketsPerUser > 0:
		d.maxSockets = cfg.MaxSocketsPerUser
	}
	if rs, ok := cfg.Store.(ReportStore); ok {
		s.Reports = &reportService{deps: d, reports: rs}
	}
	if ms, ok := cfg.Store.(ModerationStore); ok {
		s.Moderation = &moderationService{deps: d, mod: ms, auth: s.Auth.(*authService)}
	}
}

// hideRoles clears the role of every user but the caller unless the
// caller is an admin: who administers the server is not everyone's
// business.
func (s *deps) hideRoles(ctx context.Context, callerID string, users []*User) error {
	others := false
	for _, u := range users {
		if u.ID != callerID {
			others = true
		}
	}
	if !others {
		return nil
	}
	caller := UserFromContext(ctx)
	if caller == nil || caller.ID != callerID {
		var err error
		if caller, err = s.store.UserByID(ctx, callerID); err != nil {
			if ErrorCode(err) != ENotFound {
				return internalError("caller role", err)
			}
			caller = &User{ID: callerID}
		}
	}
	if caller.Role == RoleAdmin {
		return nil
	}
	for _, u := range users {
		if u.ID != callerID {
			u.Role = ""
		}
	}
	return nil
}
