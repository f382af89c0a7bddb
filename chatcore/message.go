package chatcore

import (
	"context"
	"time"
)

// Body limits.
const (
	MaxBodyBytes     = 16 << 10
	MaxClientIDBytes = 64
	MaxAttachments   = 10
)

// Message is one stored message. Seq is assigned by the server, gapless per
// conversation, starting at 1.
type Message struct {
	ID             string        `json:"id"`
	ConversationID string        `json:"conversation_id"`
	Seq            int64         `json:"seq"`
	ClientID       string        `json:"client_id"`
	SenderID       string        `json:"sender_id"`
	Body           string        `json:"body"`
	ReplyToSeq     int64         `json:"reply_to_seq,omitempty"`
	Attachments    []*Attachment `json:"attachments"`
	CreatedAt      time.Time     `json:"created_at"`
	// ChangeID is the message's place in the sync feed (migration 0008),
	// raised by every change to it; frames carry it as an opaque cursor.
	ChangeID int64 `json:"-"`

	// Kind is text, media, location or system (see message_kind.go);
	// stores return "text" for rows written before kinds existed.
	Kind MessageKind `json:"kind"`
	// Mentions are the user ids the body's @username (and an admin's
	// @all) resolved to at send time: members only, sender excluded.
	Mentions []string `json:"mentions"`
	// Location is set for kind "location".
	Location *Location `json:"location,omitempty"`
	// System is set for kind "system": messages the server writes.
	System *SystemEvent `json:"system,omitempty"`
	// EditedAt is set once the sender edited the body.
	EditedAt *time.Time `json:"edited_at,omitempty"`
	// DeletedAt marks a tombstone: body, attachments, mentions and
	// location are gone, the seq stays.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// BlockedSender is set, for the viewer only, when the viewer blocks
	// the sender (history, catch-up and live frames of shared groups).
	BlockedSender bool `json:"blocked_sender,omitempty"`
	// Reactions summarise the emoji on the message, in the order they
	// were first used; Me is relative to whoever the message is for.
	Reactions []Reaction `json:"reactions"`
	// ReplyTo quotes the message ReplyToSeq names.
	ReplyTo *ReplyTo `json:"reply_to,omitempty"`
}

// MessageQuery selects a page of a conversation's history. With Before > 0
// it pages backwards (seq < Before, newest first); with After >= 0 and
// Forward set it catches up (seq > After, oldest first). Neither: the newest
// page, newest first.
type MessageQuery struct {
	Before  int64
	After   int64
	Forward bool
	Limit   int
}

// MessageStore persists messages.
type MessageStore interface {
	// AppendMessage stores m: it assigns m.Seq (last_seq+1 of the
	// conversation, in the same transaction that inserts the row) and
	// updates the conversation's last activity. m.ID, ConversationID,
	// SenderID, ClientID, Body, ReplyToSeq, CreatedAt, Kind, Mentions,
	// Location and System are set by the caller.
	// If the sender already sent a message with the same ClientID in this
	// conversation, the stored original is returned with created=false and
	// nothing changes. attachmentIDs are linked to the message in the same
	// transaction; each must belong to the sender and be completed
	// (processing, ready or failed), else EInvalid and nothing is stored.
	// A sender who is not a member, or whom the other member of a direct
	// conversation blocks, is refused with EForbidden (system messages
	// excepted): the services' member lists and blocks may be cached, the
	// store is the authority. ENotFound: no such conversation.
	AppendMessage(ctx context.Context, m *Message, attachmentIDs []string) (msg *Message, created bool, err error)
	// ListMessages returns a page of history with attachments.
	ListMessages(ctx context.Context, conversationID string, q MessageQuery) ([]*Message, error)
}
