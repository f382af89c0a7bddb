package httpapi

import (
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
)

var _ chatcore.ClosableClient = (*wsConn)(nil)

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
