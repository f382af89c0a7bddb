package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Client→server frame types.
const (
	clientSend      = "send"
	clientDelivered = "delivered"
	clientRead      = "read"
	clientTyping    = "typing"
	clientPing      = "ping"
	clientAuth      = "auth"
	clientEdit      = "edit"
	clientDelete    = "delete"
	clientReact     = "react"
)

// frameTimeout bounds the service call a client frame makes.
const frameTimeout = 15 * time.Second

// clientFrame is any client→server frame; Type says which fields matter.
type clientFrame struct {
	Type           string               `json:"type"`
	Ref            string               `json:"ref"`
	ClientID       string               `json:"client_id"`
	ConversationID string               `json:"conversation_id"`
	Body           string               `json:"body"`
	ReplyToSeq     int64                `json:"reply_to_seq"`
	AttachmentIDs  []string             `json:"attachment_ids"`
	Kind           chatcore.MessageKind `json:"kind"`
	Location       *chatcore.Location   `json:"location"`
	Seq            int64                `json:"seq"`
	State          string               `json:"state"`
	AccessToken    string               `json:"access_token"`
	Emoji          string               `json:"emoji"`
	On             *bool                `json:"on"`
}

// ref is what an error frame echoes so the client can match it: the
// frame's ref, else its client_id.
func (f *clientFrame) ref() string {
	if f.Ref != "" {
		return f.Ref
	}
	return f.ClientID
}

// ackFrame answers this socket's send once the message is stored, and
// its edit, delete and react frames (with their ref) once done.
type ackFrame struct {
	Type     string            `json:"type"` // "ack"
	ClientID string            `json:"client_id,omitempty"`
	Ref      string            `json:"ref,omitempty"`
	Message  *chatcore.Message `json:"message"`
}

// errorFrame reports a client frame that failed; the socket stays open.
type errorFrame struct {
	Type    string `json:"type"` // "error"
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
	// RetryAfterMS comes with rate_limited: wait this long before retrying.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// pongFrame answers the client's ping frame.
type pongFrame struct {
	Type string `json:"type"` // "pong"
	Ref  string `json:"ref,omitempty"`
}

// authFrame confirms a renewed access token.
type authFrame struct {
	Type           string    `json:"type"` // "auth"
	TokenExpiresAt time.Time `json:"token_expires_at"`
	Ref            string    `json:"ref,omitempty"`
}

// handleFrame handles one client frame. Every failure becomes an error
// frame; none closes the socket.
func (c *wsConn) handleFrame(data []byte) {
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		c.sendError(jsonError(err), "")
		return
	}
	if f.Type != clientSend {
		if !c.frames.Allow() {
			c.sendError(&chatcore.Error{Code: chatcore.ERateLimited, Message: "too many frames"}, f.ref())
			return
		}
	}
	ctx, cancel := context.WithTimeout(chatcore.WithDevice(context.Background(), c.device), frameTimeout)
	defer cancel()
	cfg := &c.srv.cfg
	var err error
	switch f.Type {
	case clientSend:
		err = c.handleSend(ctx, &f)
	case clientDelivered:
		if err = needConversation(&f); err == nil {
			_, err = cfg.Receipts.MarkDelivered(ctx, c.user.ID, f.ConversationID, f.Seq)
		}
	case clientRead:
		if err = needConversation(&f); err == nil {
			_, err = cfg.Receipts.MarkRead(ctx, c.user.ID, f.ConversationID, f.Seq)
		}
	case clientTyping:
		if err = needConversation(&f); err == nil {
			if err = c.allowTyping(); err == nil {
				err = cfg.Typing.Typing(ctx, c.user.ID, f.ConversationID, f.State)
			}
		}
	case clientPing:
		c.send(chatcore.EncodeFrame(pongFrame{Type: chatcore.FramePong, Ref: f.Ref}))
	case clientAuth:
		err = c.handleAuth(ctx, &f)
	case clientEdit, clientDelete, clientReact:
		err = c.handleChange(ctx, &f)
	case "":
		err = chatcore.Errorf(chatcore.EInvalid, `frame has no "type"`)
	default:
		err = chatcore.Errorf(chatcore.EInvalid, "unknown frame type %q", f.Type)
	}
	if err != nil {
		c.sendError(err, f.ref())
	}
}

func needConversation(f *clientFrame) error {
	if f.ConversationID == "" {
		return chatcore.Errorf(chatcore.EInvalid, "conversation_id is required")
	}
	return nil
}

// handleSend stores the message and acks it to this socket; members,
// including the sender's other sockets, get the message frame via the hub.
func (c *wsConn) handleSend(ctx context.Context, f *clientFrame) error {
	if err := needConversation(f); err != nil {
		return err
	}
	if ok, wait := c.srv.msgLimit.Allow(c.user.ID, time.Now()); !ok {
		return &chatcore.Error{Code: chatcore.ERateLimited, Message: "sending too fast", RetryAfter: wait}
	}
	msg, _, err := c.srv.cfg.Messages.Send(ctx, c.user.ID, chatcore.SendRequest{
		ConversationID: f.ConversationID,
		ClientID:       f.ClientID,
		Body:           f.Body,
		ReplyToSeq:     f.ReplyToSeq,
		AttachmentIDs:  f.AttachmentIDs,
		Kind:           f.Kind,
		Location:       f.Location,
	})
	if err != nil {
		return err
	}
	c.send(chatcore.EncodeFrame(ackFrame{Type: chatcore.FrameAck, ClientID: msg.ClientID, Message: msg}))
	return nil
}

// handleChange runs an edit, delete or react frame and acks it to this
// socket with the changed message; members get the change via the hub.
func (c *wsConn) handleChange(ctx context.Context, f *clientFrame) error {
	if err := needConversation(f); err != nil {
		return err
	}
	if f.Seq < 1 {
		return chatcore.Errorf(chatcore.EInvalid, "seq must be a positive integer")
	}
	if err := c.srv.allowChange(c.user.ID); err != nil {
		return err
	}
	var msg *chatcore.Message
	var err error
	edits := c.srv.cfg.Edits
	switch f.Type {
	case clientEdit:
		msg, err = edits.Edit(ctx, c.user.ID, f.ConversationID, f.Seq, f.Body)
	case clientDelete:
		msg, err = edits.Delete(ctx, c.user.ID, f.ConversationID, f.Seq)
	case clientReact:
		if f.On == nil {
			return chatcore.Errorf(chatcore.EInvalid, "on (true or false) is required")
		}
		msg, err = edits.React(ctx, c.user.ID, f.ConversationID, f.Seq, f.Emoji, *f.On)
	}
	if err != nil {
		return err
	}
	c.send(chatcore.EncodeFrame(ackFrame{Type: chatcore.FrameAck, Ref: f.Ref, Message: msg}))
	return nil
}

// handleAuth renews the socket's access token so it outlives the first
// one's expiry. The new token must belong to the same user.
func (c *wsConn) handleAuth(ctx context.Context, f *clientFrame) error {
	u, exp, err := c.srv.authenticate(ctx, f.AccessToken)
	if err != nil {
		return err
	}
	if u.ID != c.user.ID {
		c.requestClose(closeTokenInvalid, "token of another user")
		return nil
	}
	c.noteSession(ctx, f.AccessToken)
	c.setExpiry(exp)
	c.send(chatcore.EncodeFrame(authFrame{Type: clientAuth, TokenExpiresAt: exp, Ref: f.Ref}))
	return nil
}

// sendError queues an error frame. It is the one place a socket frame's
// internal error is logged (frames never pass through writeError, and the
// services do not log what they return): once, with the upgrade request's
// id, while the client gets a generic message.
func (c *wsConn) sendError(err error, ref string) {
	code := chatcore.ErrorCode(err)
	if code == chatcore.EInternal {
		c.srv.log.Error("websocket frame failed",
			"request_id", c.reqID, "user_id", c.user.ID, "conn_id", c.id, "ref", ref, "error", err)
	}
	ef := errorFrame{Type: chatcore.FrameError, Code: code, Message: chatcore.ErrorMessage(err), Ref: ref}
	var ce *chatcore.Error
	if errors.As(err, &ce) && ce.RetryAfter > 0 {
		ef.RetryAfterMS = max(ce.RetryAfter.Milliseconds(), 1)
	}
	c.send(chatcore.EncodeFrame(ef))
}
