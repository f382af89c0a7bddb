package chatcore

import (
	"context"
	"log/slog"
	"slices"
)

// Presence statuses.
const (
	PresenceOnline  = "online"
	PresenceOffline = "offline"
)

// PresenceService tracks which users have a live socket on any node and
// pushes online/offline changes to everyone who shares a conversation.
type PresenceService interface {
	// Connected records a new socket. Only internal errors.
	Connected(ctx context.Context, userID, connID string) error
	// Disconnected records that a socket closed. Only internal errors.
	Disconnected(ctx context.Context, userID, connID string) error
	// Heartbeat keeps a socket's presence entry alive. Only internal errors.
	Heartbeat(ctx context.Context, userID, connID string) error
	// Presence returns a user's presence. Errors: ENotFound (no such
	// user, or one who shares no conversation with the caller).
	Presence(ctx context.Context, callerID, userID string) (PresenceStatus, error)
}

// presenceService implements PresenceService.
type presenceService struct {
	*deps
	users UserService
}

// Connected records a new socket of userID. When it is the user's first on
// any node, "online" is pushed to everyone who shares a conversation.
func (s *presenceService) Connected(ctx context.Context, userID, connID string) error {
	became, err := s.presence.Connect(ctx, userID, connID)
	if err != nil {
		return internalError("presence connect", err, slog.String("user_id", userID))
	}
	if became {
		s.pushPresence(ctx, PresenceFrame{Type: FramePresence, UserID: userID, Status: PresenceOnline})
	}
	s.capSockets(ctx, userID, connID)
	return nil
}

// Disconnected records that a socket closed. When it was the user's last,
// "offline" with last_seen is pushed to everyone who shares a
// conversation, and any typing they left running on this node stops.
func (s *presenceService) Disconnected(ctx context.Context, userID, connID string) error {
	now := s.clock.Now().UTC()
	became, err := s.presence.Disconnect(ctx, userID, connID, now)
	if err != nil {
		return internalError("presence disconnect", err, slog.String("user_id", userID))
	}
	if became {
		s.stopUserTyping(ctx, userID)
		s.pushPresence(ctx, PresenceFrame{Type: FramePresence, UserID: userID, Status: PresenceOffline, LastSeen: now})
	}
	return nil
}

// Heartbeat keeps a socket's presence entry alive.
func (s *presenceService) Heartbeat(ctx context.Context, userID, connID string) error {
	if err := s.presence.Heartbeat(ctx, userID, connID); err != nil {
		return internalError("presence heartbeat", err, slog.String("user_id", userID))
	}
	return nil
}

// Presence returns a user's presence. Errors: ENotFound (no such user, or
// one who shares no conversation with the caller: strangers cannot watch
// when someone is online).
func (s *presenceService) Presence(ctx context.Context, callerID, userID string) (PresenceStatus, error) {
	if _, err := s.users.User(ctx, callerID, userID); err != nil {
		return PresenceStatus{}, err
	}
	if callerID != userID {
		peers, err := s.store.PeerIDs(ctx, callerID)
		if err != nil {
			return PresenceStatus{}, internalError("presence peers", err, slog.String("user_id", callerID))
		}
		if !slices.Contains(peers, userID) {
			return PresenceStatus{}, Errorf(ENotFound, "user not found")
		}
		if rel, err := s.blockRelations(ctx, callerID); err != nil {
			return PresenceStatus{}, err
		} else if rel.BlockedBy[userID] {
			return PresenceStatus{}, Errorf(ENotFound, "user not found")
		}
	}
	st, err := s.presence.Status(ctx, userID)
	if err != nil {
		return PresenceStatus{}, internalError("presence status", err, slog.String("user_id", userID))
	}
	st.UserID = userID
	if st.Status == "" {
		st.Status = PresenceOffline
	}
	return st, nil
}

// pushPresence sends a presence frame to every peer of its user.
func (s *deps) pushPresence(ctx context.Context, f PresenceFrame) {
	peers, err := s.store.PeerIDs(ctx, f.UserID)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: peers for presence push",
			slog.String("user_id", f.UserID), slog.Any("error", err))
		return
	}
	rel, err := s.blockRelations(ctx, f.UserID)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: blocks for presence push",
			slog.String("user_id", f.UserID), slog.Any("error", err))
		return
	}
	s.publish(ctx, dropBlocked(peers, rel.Blocks), EncodeFrame(f), "presence")
}
