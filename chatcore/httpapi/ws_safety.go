package httpapi

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/chatcore"
)

// Close codes of sockets the server closes on purpose (chatcore.Close*
// reasons). docs/protocol.md lists them.
const (
	// closeTooManySockets: the user opened more sockets than the cap; this
	// one was the oldest. Do not reconnect automatically.
	closeTooManySockets = websocket.StatusCode(4008)
	// closeAccountDisabled: an admin disabled the account.
	closeAccountDisabled = websocket.StatusCode(4010)
	// closeAccountDeleted: the account was deleted (account.go).
	closeAccountDeleted = websocket.StatusCode(4011)
	// closeSessionRevoked: the socket's session was revoked (password
	// change, session list, logout).
	closeSessionRevoked = websocket.StatusCode(4012)
)

var (
	_ chatcore.ClosableClient = (*wsConn)(nil)
	_ chatcore.SessionClient  = (*wsConn)(nil)
)

// SessionID implements chatcore.SessionClient: the session of the access
// token the socket was opened or last renewed with ("" when unknown).
func (c *wsConn) SessionID() string {
	s, _ := c.session.Load().(string)
	return s
}

// noteSession records the session of the socket's current access token.
func (c *wsConn) noteSession(ctx context.Context, token string) {
	sid, err := c.srv.cfg.Auth.SessionID(ctx, token)
	if err != nil {
		sid = ""
	}
	c.session.Store(sid)
}

// PresenceID implements chatcore.ClosableClient.
func (c *wsConn) PresenceID() string { return c.presenceID() }

// CloseFor implements chatcore.ClosableClient: what is queued is flushed,
// then the close frame goes out with the reason's code.
func (c *wsConn) CloseFor(reason string) {
	code := closeGoingAway
	switch reason {
	case chatcore.CloseTooManySockets:
		code = closeTooManySockets
	case chatcore.CloseAccountDisabled:
		code = closeAccountDisabled
	case chatcore.CloseAccountDeleted:
		code = closeAccountDeleted
	case chatcore.CloseSessionRevoked:
		code = closeSessionRevoked
	}
	c.srv.log.Info("websocket closed by the server", "user_id", c.user.ID, "conn_id", c.id, "reason", reason)
	c.requestClose(code, reason)
}

// allowTyping applies the per-user typing limit (every socket of the user,
// on every node when the limiters live in Redis).
func (c *wsConn) allowTyping() error {
	if ok, wait := c.srv.typingLimit.Allow(c.user.ID, time.Now()); !ok {
		return &chatcore.Error{Code: chatcore.ERateLimited, Message: "typing indicators too fast", RetryAfter: wait}
	}
	return nil
}
