package chatcore

import (
	"context"
	"crypto/rand"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Client is one socket as the hub sees it. The WebSocket handler implements it.
type Client interface {
	UserID() string
	// Enqueue hands a frame to the socket's writer. It must not block;
	// false means its buffer is full. The frame's bytes are shared with
	// every other recipient and must not be modified.
	Enqueue(frame []byte) bool
	// Kick is called by the hub when Enqueue returned false: the socket is
	// closed (the client resyncs with after=). It must not block and may be
	// called from the hub's dispatch goroutine.
	Kick()
}

// Resyncer is implemented by clients that close with their own reason when
// the hub drops every socket to resync (KickAll), so their users can tell
// "your connection was too slow" from "the server may have missed events".
// KickAll calls Resync instead of Kick where it is implemented.
type Resyncer interface {
	Resync()
}

// hubShards spreads the registry over several locks so that sockets
// connecting and leaving do not stall dispatch of unrelated users.
const hubShards = 32

// Hub is the local registry of sockets on this node. It receives every bus
// event and hands the frame to the local clients of its recipients. A
// client that cannot take a frame at once is kicked, so one slow consumer
// never delays anyone else.
type Hub struct {
	bus   Bus
	hooks Hooks
	log   *slog.Logger
	seed  maphash.Seed
	id    string // Event.Origin of what this hub publishes

	shards [hubShards]hubShard
	conns  atomic.Int64
	// members is the send path's membership cache, which the events
	// below invalidate; nil when there is none.
	members *memberCache
}

type hubShard struct {
	mu      sync.RWMutex
	clients map[string][]Client // user id → that user's sockets on this node
}

// NewHub returns a hub that publishes to and subscribes from bus. With a
// nil bus the hub is local only: Publish dispatches on this node (tests,
// single-process tools).
func NewHub(bus Bus, hooks Hooks, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Hub{bus: bus, hooks: hooks, log: logger, seed: maphash.MakeSeed(), id: rand.Text()}
	for i := range h.shards {
		h.shards[i].clients = make(map[string][]Client)
	}
	return h
}

func (h *Hub) shard(userID string) *hubShard {
	return &h.shards[maphash.String(h.seed, userID)%hubShards]
}

// Register adds a client; the returned function removes it and may be
// called more than once.
func (h *Hub) Register(c Client) (unregister func()) {
	uid := c.UserID()
	sh := h.shard(uid)
	sh.mu.Lock()
	// Copy on write: Dispatch iterates a snapshot without holding the lock
	// while it calls Enqueue.
	cur := sh.clients[uid]
	next := make([]Client, len(cur), len(cur)+1)
	copy(next, cur)
	sh.clients[uid] = append(next, c)
	sh.mu.Unlock()
	h.conns.Add(1)
	var once sync.Once
	return func() { once.Do(func() { h.remove(c) }) }
}

// remove drops c from the registry and reports whether it was there.
func (h *Hub) remove(c Client) bool {
	uid := c.UserID()
	sh := h.shard(uid)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	cur := sh.clients[uid]
	for i, x := range cur {
		if x != c {
			continue
		}
		if len(cur) == 1 {
			delete(sh.clients, uid)
		} else {
			next := make([]Client, 0, len(cur)-1)
			next = append(next, cur[:i]...)
			next = append(next, cur[i+1:]...)
			sh.clients[uid] = next
		}
		h.conns.Add(-1)
		return true
	}
	return false
}

// LocalConnections returns how many clients are registered on this node.
func (h *Hub) LocalConnections() int { return int(h.conns.Load()) }

// Publish sends ev to every node through the bus, stamped (Event.Stamped).
// This node's clients get it at once, before the bus's round trip: the
// event carries this hub's id as its Origin and Run skips it when the bus
// delivers it back. A failed publish has reached this node's clients only.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	ev = ev.Stamped(time.Now())
	if h.bus != nil {
		ev.Origin = h.id
	}
	h.Dispatch(ev)
	if h.bus == nil {
		return nil
	}
	if err := h.bus.Publish(ctx, ev); err != nil {
		return fmt.Errorf("publish event: %w", err)
	}
	return nil
}

// Run subscribes the hub to the bus and dispatches every event until ctx
// is done; it returns nil then. With no bus it just waits.
func (h *Hub) Run(ctx context.Context) error {
	if h.bus != nil {
		if err := h.bus.Subscribe(ctx, h.receive); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("subscribe hub to bus: %w", err)
		}
	}
	<-ctx.Done()
	return nil
}

// receive dispatches an event from the bus unless this hub published it
// (Publish dispatched that one already).
func (h *Hub) receive(ev Event) {
	if ev.Origin != "" && ev.Origin == h.id {
		return
	}
	h.Dispatch(ev)
}

// Dispatch delivers one event to the local clients of its recipients. It
// never blocks: a client whose buffer is full is removed and kicked.
func (h *Hub) Dispatch(ev Event) {
	if ev.Invalidate != nil || ev.Close != nil {
		h.invalidateFor(ev)
	}
	if ev.Close != nil {
		h.closeClients(ev)
		return
	}
	var slow []Client
	delivered := 0
	for _, uid := range ev.Recipients {
		sh := h.shard(uid)
		sh.mu.RLock()
		cs := sh.clients[uid]
		sh.mu.RUnlock()
		for _, c := range cs {
			if c.Enqueue(ev.Frame) {
				delivered++
			} else {
				slow = append(slow, c)
			}
		}
	}
	if delivered > 0 && ev.PublishedAt != 0 && h.hooks.FanoutLatency != nil {
		h.hooks.FanoutLatency(time.Duration(time.Now().UnixNano() - ev.PublishedAt))
	}
	for _, c := range slow {
		// Only the dispatch that removes a client kicks it, so a client
		// stuck across many events is kicked and counted once.
		if !h.remove(c) {
			continue
		}
		h.log.LogAttrs(context.Background(), slog.LevelWarn, "chatcore: slow consumer disconnected",
			slog.String("user_id", c.UserID()))
		if h.hooks.SlowConsumer != nil {
			h.hooks.SlowConsumer()
		}
		c.Kick()
	}
}

// KickAll closes every local socket so its client reconnects and catches
// up with after=. Call it when the bus may have lost events (it was cut
// off from Redis and resubscribed): the sockets cannot know what they
// missed. It returns how many were kicked.
func (h *Hub) KickAll() int {
	// Invalidations may have been lost with the other events.
	h.members.invalidate(Invalidation{All: true})
	var all []Client
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for uid, cs := range sh.clients {
			all = append(all, cs...)
			delete(sh.clients, uid)
		}
		sh.mu.Unlock()
	}
	h.conns.Add(-int64(len(all)))
	for _, c := range all {
		if r, ok := c.(Resyncer); ok {
			r.Resync()
		} else {
			c.Kick()
		}
	}
	return len(all)
}

// invalidateFor drops the cached member lists ev makes stale: those it
// names, or all of them when it closes the sockets of a disabled or
// deleted account (whose memberships go or no longer count).
func (h *Hub) invalidateFor(ev Event) {
	switch {
	case ev.Invalidate != nil:
		h.members.invalidate(*ev.Invalidate)
	case ev.Close != nil && (ev.Close.Reason == CloseAccountDisabled || ev.Close.Reason == CloseAccountDeleted):
		h.members.invalidate(Invalidation{All: true})
	}
}
