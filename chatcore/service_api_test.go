package chatcore

import (
	"context"
	"log/slog"
)

// Each implementation satisfies its service interface; chatcore/httpapi is
// written against the interfaces only.
var (
	_ AuthService         = (*authService)(nil)
	_ UserService         = (*userService)(nil)
	_ ConversationService = (*conversationService)(nil)
	_ MessageService      = (*messageService)(nil)
	_ ReceiptService      = (*receiptService)(nil)
	_ TypingService       = (*typingService)(nil)
	_ PresenceService     = (*presenceService)(nil)
)

type hubAPI interface {
	Register(c Client) (unregister func())
	Publish(ctx context.Context, ev Event) error
	Run(ctx context.Context) error
	Dispatch(ev Event)
	LocalConnections() int
}

var (
	_ hubAPI                                 = (*Hub)(nil)
	_ func(ServiceConfig) (*Services, error) = NewServices
	_ func(Bus, Hooks, *slog.Logger) *Hub    = NewHub
)
