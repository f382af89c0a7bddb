package chatcore

import (
	"context"
	"encoding/json"
	"time"
)

// Event is one thing to push to some users' sockets, on whichever node holds
// them. Frame is the complete server→client WebSocket frame, encoded once by
// the publisher.
type Event struct {
	Recipients []string        `json:"r"`
	Frame      json.RawMessage `json:"f"`
	// PublishedAt (unix nanoseconds) lets receivers measure fan-out latency
	// (Hooks.FanoutLatency). Only Stamped sets it.
	PublishedAt int64 `json:"t,omitempty"`
	// Close, when set, closes sockets of the recipients instead of
	// delivering Frame (socket cap, disabled account).
	Close *SocketClose `json:"c,omitempty"`
	// Invalidate, when set, drops cached member lists on every node
	// (membercache.go); such an event has no recipients.
	Invalidate *Invalidation `json:"i,omitempty"`
	// Origin names the hub that published the event. That hub has
	// dispatched it to its own sockets already and skips it when the bus
	// brings it back; every other node dispatches it.
	Origin string `json:"o,omitempty"`
}

// Stamped returns ev with PublishedAt set to now unless it is set already.
// It is the one place PublishedAt is stamped: Hub.Publish (every frame of
// the chat services) and redis.Bus.Publish (anything that publishes to the
// bus directly, such as the attachment events of workers.Notify) call it.
func (ev Event) Stamped(now time.Time) Event {
	if ev.PublishedAt == 0 {
		ev.PublishedAt = now.UnixNano()
	}
	return ev
}

// Bus carries events between all chat nodes and workers. Adapter: chatcore/redis.
type Bus interface {
	// Publish sends ev to every subscriber on every node.
	Publish(ctx context.Context, ev Event) error
	// Subscribe calls fn for every event published by anyone until ctx is
	// done or the subscription fails; it returns once subscribed, delivering
	// in a goroutine of its own. fn must not block.
	Subscribe(ctx context.Context, fn func(Event)) error
}

// PresenceStatus is a user's presence as others see it.
type PresenceStatus struct {
	UserID   string    `json:"user_id"`
	Status   string    `json:"status"` // "online" | "offline"
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// Presence tracks which users have a live socket on any node. Entries expire
// by themselves if a node dies without saying goodbye. Adapter: chatcore/redis.
type Presence interface {
	// Connect records a socket; becameOnline is true if it is the user's first.
	Connect(ctx context.Context, userID, connID string) (becameOnline bool, err error)
	// Disconnect removes a socket; becameOffline is true if it was the last,
	// in which case last_seen is set to now.
	Disconnect(ctx context.Context, userID, connID string, now time.Time) (becameOffline bool, err error)
	// Heartbeat keeps a socket's entry alive; call it more often than the TTL.
	Heartbeat(ctx context.Context, userID, connID string) error
	// Status returns the user's presence.
	Status(ctx context.Context, userID string) (PresenceStatus, error)
	// Online returns, for each given user, whether they have a live socket.
	Online(ctx context.Context, userIDs []string) (map[string]bool, error)
}

// Notification asks a push provider to wake an offline member's device.
type Notification struct {
	UserID         string `json:"user_id"`
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	SenderID       string `json:"sender_id"`
}

// Notifier wakes offline members. Notify must not block for long: adapters
// queue and retry in the background. Adapter: chatcore/webhook.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}
