package chatcore

import "context"

// Store is everything Parley persists. Adapters: chatcore/sqlite (dev) and
// chatcore/postgres (production); both pass chatcore/storetest.
type Store interface {
	UserStore
	SessionStore
	ConversationStore
	MessageStore
	MessageEditStore
	ReactionStore
	ReceiptStore
	AttachmentStore
	SearchStore
	SyncStore
	// Ping checks the database is reachable.
	Ping(ctx context.Context) error
	Close() error
}
