package chatcore

import (
	"context"
	"time"
)

// ConversationKind is direct (exactly two members, one per pair) or group.
type ConversationKind string

const (
	KindDirect ConversationKind = "direct"
	KindGroup  ConversationKind = "group"
)

// MaxGroupMembers is the most members a group may have.
const MaxGroupMembers = 1000

// Conversation is a direct chat or a group.
type Conversation struct {
	ID             string           `json:"id"`
	Kind           ConversationKind `json:"kind"`
	Title          string           `json:"title,omitempty"`
	CreatedBy      string           `json:"created_by"`
	CreatedAt      time.Time        `json:"created_at"`
	LastSeq        int64            `json:"last_seq"`
	LastActivityAt time.Time        `json:"last_activity_at"`
	Members        []Member         `json:"members"`

	// Filled per viewer by ConversationForUser and ListConversations.
	LastMessage *Message `json:"last_message,omitempty"`
	UnreadCount int64    `json:"unread_count"`
}

// Member is a user's membership with their cumulative receipts.
type Member struct {
	UserID       string    `json:"user_id"`
	JoinedAt     time.Time `json:"joined_at"`
	DeliveredSeq int64     `json:"delivered_seq"`
	ReadSeq      int64     `json:"read_seq"`
	// Role is owner, admin or member (always member in direct conversations).
	Role MemberRole `json:"role"`
}

// ConversationStore persists conversations and memberships.
type ConversationStore interface {
	// CreateConversation inserts c (ID, Kind, CreatedAt set by the caller)
	// with the given members; c.CreatedBy becomes its owner. For KindDirect use FindOrCreateDirect.
	CreateConversation(ctx context.Context, c *Conversation, memberIDs []string) error
	// FindOrCreateDirect returns the direct conversation between a and b,
	// creating it from c if none exists; created tells which. Safe under
	// concurrent calls for the same pair.
	FindOrCreateDirect(ctx context.Context, c *Conversation, a, b string) (conv *Conversation, created bool, err error)
	// ConversationForUser returns the conversation with members, last message
	// and unread count as userID sees it. ENotFound if it does not exist or
	// userID is not a member.
	ConversationForUser(ctx context.Context, id, userID string) (*Conversation, error)
	// ListConversations returns userID's conversations, newest activity first,
	// each with last message and unread count; at most limit, those with
	// activity before `before` when it is non-zero.
	ListConversations(ctx context.Context, userID string, before time.Time, limit int) ([]*Conversation, error)
	// IsMember reports whether userID belongs to conversation id.
	IsMember(ctx context.Context, id, userID string) (bool, error)
	// MemberIDs returns the user IDs of the members. ENotFound if no such conversation.
	MemberIDs(ctx context.Context, id string) ([]string, error)
	// AddMembers adds users (existing members are ignored). ETooLarge past
	// MaxGroupMembers; ENotFound for unknown users.
	AddMembers(ctx context.Context, id string, userIDs []string, now time.Time) error
	// RemoveMember removes a member. ENotFound if not a member. When the
	// owner of a group goes, ownership passes in the same transaction to
	// the oldest admin, else the oldest member.
	RemoveMember(ctx context.Context, id, userID string) error
	// SetMemberRole sets a member's role. ENotFound if not a member.
	SetMemberRole(ctx context.Context, id, userID string, role MemberRole) error
	// SetConversationTitle renames a group. ENotFound if there is no such group.
	SetConversationTitle(ctx context.Context, id, title string) error
	// PeerIDs returns the distinct users who share at least one conversation
	// with userID (not userID itself).
	PeerIDs(ctx context.Context, userID string) ([]string, error)
}
