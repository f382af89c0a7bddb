package chatcore

import (
	"encoding/json"
	"time"
)

// Server→client WebSocket frame types. docs/protocol.md is their reference.
const (
	FrameHello      = "hello"
	FrameAck        = "ack"
	FrameMessage    = "message"
	FrameReceipt    = "receipt"
	FrameTyping     = "typing"
	FramePresence   = "presence"
	FrameAttachment = "attachment"
	FrameError      = "error"
	FramePong       = "pong"
)

// MessageFrame is pushed to members when a message is stored.
type MessageFrame struct {
	Type    string   `json:"type"` // "message"
	Message *Message `json:"message"`
	// Cursor is the sync cursor of this change (GET /v1/sync?since=).
	Cursor string `json:"cursor,omitempty"`
}

// ReceiptFrame is pushed to the other members when a receipt moves.
type ReceiptFrame struct {
	Type string `json:"type"` // "receipt"
	Receipt
	// Cursor is the sync cursor of this change (GET /v1/sync?since=).
	Cursor string `json:"cursor,omitempty"`
}

// TypingFrame is pushed to the other members; never stored.
type TypingFrame struct {
	Type           string `json:"type"` // "typing"
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
	State          string `json:"state"` // "start" | "stop"
}

// PresenceFrame is pushed to everyone who shares a conversation with the user.
type PresenceFrame struct {
	Type     string    `json:"type"` // "presence"
	UserID   string    `json:"user_id"`
	Status   string    `json:"status"`
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// AttachmentFrame is pushed to members of the conversations that carry an
// attachment when workers finish (or give up on) it.
type AttachmentFrame struct {
	Type            string      `json:"type"` // "attachment"
	Attachment      *Attachment `json:"attachment"`
	ConversationIDs []string    `json:"conversation_ids"`
	// Cursor is a sync cursor at or after this change (GET /v1/sync?since=).
	Cursor string `json:"cursor,omitempty"`
}

// EncodeFrame marshals a frame value; frames are plain structs, so it cannot
// fail short of a programming error, which it panics on.
func EncodeFrame(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("chatcore: encode frame: " + err.Error())
	}
	return b
}
