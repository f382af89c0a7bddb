package chatcore

import (
	"context"
	"log/slog"
	"strings"
)

// Presence statuses.
const (
	PresenceOnline  = "online"
	PresenceOffline = "offline"
)

// User search limits.
const (
	DefaultUserSearchLimit = 20
	MaxUserSearchLimit     = 50
)

// Connected records a new socket of userID. When it is the user's first on
// any node, "online" is pushed to everyone who shares a conversation.
func (s *Service) Connected(ctx context.Context, userID, connID string) error {
	became, err := s.presence.Connect(ctx, userID, connID)
	if err != nil {
		return s.internal(ctx, "presence connect", err, slog.String("user_id", userID))
	}
	if became {
		s.pushPresence(ctx, PresenceFrame{Type: FramePresence, UserID: userID, Status: PresenceOnline})
	}
	return nil
}

// Disconnected records that a socket closed. When it was the user's last,
// "offline" with last_seen is pushed to everyone who shares a
// conversation, and any typing they left running on this node stops.
func (s *Service) Disconnected(ctx context.Context, userID, connID string) error {
	now := s.clock.Now().UTC()
	became, err := s.presence.Disconnect(ctx, userID, connID, now)
	if err != nil {
		return s.internal(ctx, "presence disconnect", err, slog.String("user_id", userID))
	}
	if became {
		s.stopUserTyping(ctx, userID)
		s.pushPresence(ctx, PresenceFrame{Type: FramePresence, UserID: userID, Status: PresenceOffline, LastSeen: now})
	}
	return nil
}

// Heartbeat keeps a socket's presence entry alive.
func (s *Service) Heartbeat(ctx context.Context, userID, connID string) error {
	if err := s.presence.Heartbeat(ctx, userID, connID); err != nil {
		return s.internal(ctx, "presence heartbeat", err, slog.String("user_id", userID))
	}
	return nil
}

// Presence returns a user's presence. Errors: ENotFound (no such user).
func (s *Service) Presence(ctx context.Context, callerID, userID string) (PresenceStatus, error) {
	if _, err := s.User(ctx, callerID, userID); err != nil {
		return PresenceStatus{}, err
	}
	st, err := s.presence.Status(ctx, userID)
	if err != nil {
		return PresenceStatus{}, s.internal(ctx, "presence status", err, slog.String("user_id", userID))
	}
	st.UserID = userID
	if st.Status == "" {
		st.Status = PresenceOffline
	}
	return st, nil
}

// User returns an account. Errors: ENotFound.
func (s *Service) User(ctx context.Context, callerID, id string) (*User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "user not found")
		}
		return nil, s.internal(ctx, "get user", err, slog.String("user_id", id))
	}
	return u, nil
}

// FindUsers returns up to limit users whose username starts with the
// (case-insensitive) prefix, ordered by username. Limit 0 means
// DefaultUserSearchLimit; larger than MaxUserSearchLimit is cut to it.
// Errors: EInvalid (empty prefix, negative limit).
func (s *Service) FindUsers(ctx context.Context, callerID, usernamePrefix string, limit int) ([]*User, error) {
	prefix := normalizeUsername(usernamePrefix)
	if prefix == "" {
		return nil, Errorf(EInvalid, "username prefix is required")
	}
	if len(prefix) > MaxUsernameLen {
		return []*User{}, nil
	}
	if limit < 0 {
		return nil, Errorf(EInvalid, "limit must not be negative")
	}
	if limit == 0 {
		limit = DefaultUserSearchLimit
	}
	limit = min(limit, MaxUserSearchLimit)
	// Characters no username holds cannot match; refusing them early also
	// keeps LIKE wildcards away from the store.
	if strings.ContainsFunc(prefix, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-')
	}) {
		return []*User{}, nil
	}
	users, err := s.store.SearchUsers(ctx, prefix, limit)
	if err != nil {
		return nil, s.internal(ctx, "find users", err)
	}
	if users == nil {
		users = []*User{}
	}
	return users, nil
}

// pushPresence sends a presence frame to every peer of its user.
func (s *Service) pushPresence(ctx context.Context, f PresenceFrame) {
	peers, err := s.store.PeerIDs(ctx, f.UserID)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: peers for presence push",
			slog.String("user_id", f.UserID), slog.Any("error", err))
		return
	}
	s.publish(ctx, peers, EncodeFrame(f), "presence")
}
