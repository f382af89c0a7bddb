package chatcore

import (
	"context"
	"log/slog"
	"slices"
)

// DefaultMaxSocketsPerUser is the socket cap per user when
// ServiceConfig.MaxSocketsPerUser is zero.
const DefaultMaxSocketsPerUser = 10

// Reasons a socket is closed by the server on purpose, carried by
// Event.Close to whichever node holds the socket. The WebSocket edge maps
// each to its close code (docs/protocol.md).
const (
	// CloseTooManySockets: the user opened more than the cap allows; the
	// oldest sockets go.
	CloseTooManySockets = "too_many_sockets"
	// CloseAccountDisabled: an admin disabled the account.
	CloseAccountDisabled = "account_disabled"
)

// SocketClose asks every node to close sockets of an event's recipients
// instead of delivering a frame.
type SocketClose struct {
	// ConnIDs are presence connection ids (DeviceConnID); empty means
	// every socket of the recipients.
	ConnIDs []string `json:"ids,omitempty"`
	// Sessions, when set, narrows the close to sockets opened (or last
	// renewed) with an access token of one of these sessions.
	Sessions []string `json:"sessions,omitempty"`
	Reason   string   `json:"reason"`
}

// ClosableClient is implemented by clients the hub can close on request
// (Event.Close). The WebSocket handler's sockets are.
type ClosableClient interface {
	// PresenceID is the id the socket is recorded under in Presence.
	PresenceID() string
	// CloseFor closes the socket for one of the Close* reasons. It must
	// not block.
	CloseFor(reason string)
}

// SessionClient is implemented by clients that know the session
// (refresh-token family) of the access token they were opened or last
// renewed with, so that SocketClose.Sessions can reach them. The
// WebSocket handler's sockets are.
type SessionClient interface {
	SessionID() string
}

// SocketCapper is implemented by Presence adapters that know in which
// order a user's sockets connected, on every node (chatcore/redis).
type SocketCapper interface {
	// CapSockets records connID as userID's newest socket and returns the
	// ids of their oldest live sockets beyond max, which the caller closes.
	CapSockets(ctx context.Context, userID, connID string, max int) ([]string, error)
}

// capSockets closes the oldest sockets of userID beyond the cap, wherever
// they are. Failures are logged: the new socket works either way.
func (s *deps) capSockets(ctx context.Context, userID, connID string) {
	capper, ok := s.presence.(SocketCapper)
	if !ok || s.maxSockets <= 0 {
		return
	}
	ids, err := capper.CapSockets(ctx, userID, connID, s.maxSockets)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: socket cap", slog.String("user_id", userID), slog.Any("error", err))
		return
	}
	if len(ids) > 0 {
		s.closeSockets(ctx, userID, ids, CloseTooManySockets)
	}
}

// closeSockets asks every node to close sockets of userID (all of them
// when ids is empty).
func (s *deps) closeSockets(ctx context.Context, userID string, ids []string, reason string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	ev := Event{Recipients: []string{userID}, Close: &SocketClose{ConnIDs: ids, Reason: reason}}
	if err := s.hub.Publish(ctx, ev); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: publish socket close",
			slog.String("user_id", userID), slog.String("reason", reason), slog.Any("error", err))
	}
}

// closeClients closes the local sockets an Event.Close names.
func (h *Hub) closeClients(ev Event) {
	for _, uid := range ev.Recipients {
		sh := h.shard(uid)
		sh.mu.RLock()
		cs := sh.clients[uid]
		sh.mu.RUnlock()
		for _, c := range cs {
			cc, ok := c.(ClosableClient)
			if !ok {
				continue
			}
			if !closeMatches(ev.Close, cc) {
				continue
			}
			cc.CloseFor(ev.Close.Reason)
		}
	}
}

// closeMatches reports whether a SocketClose names the client.
func closeMatches(sc *SocketClose, cc ClosableClient) bool {
	if len(sc.ConnIDs) > 0 && !slices.Contains(sc.ConnIDs, cc.PresenceID()) {
		return false
	}
	if len(sc.Sessions) > 0 {
		sess, ok := cc.(SessionClient)
		return ok && sess.SessionID() != "" && slices.Contains(sc.Sessions, sess.SessionID())
	}
	return true
}

// closeSessionSockets asks every node to close the sockets of userID that
// belong to the given sessions (revoked ones).
func (s *deps) closeSessionSockets(ctx context.Context, userID string, sessions []string, reason string) {
	if len(sessions) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	ev := Event{Recipients: []string{userID}, Close: &SocketClose{Sessions: sessions, Reason: reason}}
	if err := s.hub.Publish(ctx, ev); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: publish session socket close",
			slog.String("user_id", userID), slog.String("reason", reason), slog.Any("error", err))
	}
}
