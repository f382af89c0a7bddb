package inmem

import (
	"context"
	"sync"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.Bus = (*Bus)(nil)

// subscriberBuffer is how many events a subscriber may lag behind before
// Publish waits for it.
const subscriberBuffer = 4096

// Bus delivers every published event to every subscriber of this process,
// in publish order per subscriber.
type Bus struct {
	mu   sync.RWMutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ch chan chatcore.Event
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{subs: make(map[*subscriber]struct{})}
}

// Publish hands ev to every subscriber; it waits only if one is more than
// subscriberBuffer events behind, and gives up when ctx is done.
func (b *Bus) Publish(ctx context.Context, ev chatcore.Event) error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.subs {
		select {
		case s.ch <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Subscribe calls fn for every event published until ctx is done, from a
// goroutine of its own. It returns at once.
func (b *Bus) Subscribe(ctx context.Context, fn func(chatcore.Event)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := &subscriber{ch: make(chan chatcore.Event, subscriberBuffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	go func() {
		defer func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-s.ch:
				fn(ev)
			}
		}
	}()
	return nil
}

// Subscribers returns how many subscriptions are live.
func (b *Bus) Subscribers() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.subs)
}
