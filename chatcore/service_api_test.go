package chatcore

import (
	"context"
	"log/slog"
	"time"
)

// serviceAPI is the contract chatcore/httpapi is written against
// (/tmp/service_api.md); this assertion fails to compile if a method
// drifts from it.
type serviceAPI interface {
	Run(ctx context.Context) error
	Close() error
	Register(ctx context.Context, username, password, displayName string) (*AuthResult, error)
	Login(ctx context.Context, username, password string) (*AuthResult, error)
	Refresh(ctx context.Context, refreshToken string) (*AuthResult, error)
	Logout(ctx context.Context, refreshToken string) error
	Authenticate(ctx context.Context, accessToken string) (*User, time.Time, error)
	EnsureAdmin(ctx context.Context, username, password string) (*User, error)
	User(ctx context.Context, callerID, id string) (*User, error)
	FindUsers(ctx context.Context, callerID, usernamePrefix string, limit int) ([]*User, error)
	Presence(ctx context.Context, callerID, userID string) (PresenceStatus, error)
	CreateConversation(ctx context.Context, callerID string, memberIDs []string, title string) (conv *Conversation, created bool, err error)
	Conversation(ctx context.Context, callerID, id string) (*Conversation, error)
	Conversations(ctx context.Context, callerID string, before time.Time, limit int) ([]*Conversation, error)
	AddMembers(ctx context.Context, callerID, convID string, userIDs []string) (*Conversation, error)
	RemoveMember(ctx context.Context, callerID, convID, userID string) error
	Send(ctx context.Context, callerID string, req SendRequest) (msg *Message, created bool, err error)
	Messages(ctx context.Context, callerID, convID string, q MessageQuery) ([]*Message, error)
	MarkDelivered(ctx context.Context, callerID, convID string, seq int64) (Receipt, error)
	MarkRead(ctx context.Context, callerID, convID string, seq int64) (Receipt, error)
	Typing(ctx context.Context, callerID, convID, state string) error
	Connected(ctx context.Context, userID, connID string) error
	Disconnected(ctx context.Context, userID, connID string) error
	Heartbeat(ctx context.Context, userID, connID string) error
	Hub() *Hub
}

var _ serviceAPI = (*Service)(nil)

type hubAPI interface {
	Register(c Client) (unregister func())
	Publish(ctx context.Context, ev Event) error
	Run(ctx context.Context) error
	Dispatch(ev Event)
	LocalConnections() int
}

var (
	_ hubAPI                                = (*Hub)(nil)
	_ func(ServiceConfig) (*Service, error) = NewService
	_ func(Bus, Hooks, *slog.Logger) *Hub   = NewHub
)
