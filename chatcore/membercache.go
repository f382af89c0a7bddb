package chatcore

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults of the send path's membership cache (ServiceConfig).
const (
	// DefaultMemberCacheTTL is how long a cached member list is used at
	// most. Invalidations through the bus end it sooner; the TTL is the
	// safety net for one that was lost.
	DefaultMemberCacheTTL = 5 * time.Second
	// DefaultMemberCacheSize is how many (conversation, sender) entries a
	// node keeps at most.
	DefaultMemberCacheSize = 100_000
)

// Invalidation tells every node that cached member lists are stale: those
// of ConversationIDs, or every one when All is set. It rides on an Event
// with no recipients (Event.Invalidate).
type Invalidation struct {
	ConversationIDs []string `json:"convs,omitempty"`
	All             bool     `json:"all,omitempty"`
}

// memberCache keeps, per conversation and sender, what Send needs before
// it stores a message: the members and those of them who block the sender
// (sendMembers). It saves the membership query of every send. Entries are
// dropped on every change that affects them (membership, blocks, account
// deletion or disabling: invalidateMembers and Hub.Dispatch), when the bus
// resubscribed after an outage (Hub.KickAll), and after ttl at the latest.
//
// The cache only routes frames: the append itself refuses a sender who is
// not a member, so a stale entry can at most deliver a frame to a removed
// member (or miss a new one) until the invalidation arrives.
type memberCache struct {
	ttl   time.Duration
	max   int
	clock Clock

	mu sync.Mutex
	// gen counts invalidations: a fill read before one must not land
	// after it with what it read.
	gen   uint64
	convs map[string]map[string]memberEntry // conversation → sender → entry
	n     int
}

type memberEntry struct {
	members  []string        // shared: callers must not modify it
	blockers map[string]bool // members who block the sender; shared, read only
	expires  time.Time
}

// newMemberCache returns a cache, or nil (every lookup misses) when ttl or
// size is negative.
func newMemberCache(ttl time.Duration, size int, clock Clock) *memberCache {
	if ttl < 0 || size < 0 {
		return nil
	}
	if ttl == 0 {
		ttl = DefaultMemberCacheTTL
	}
	if size == 0 {
		size = DefaultMemberCacheSize
	}
	return &memberCache{ttl: ttl, max: size, clock: clock, convs: make(map[string]map[string]memberEntry)}
}

// get returns the cached members of convID and who of them blocks
// senderID, with ok false on a miss. gen is what a fill after a miss
// passes to put.
func (c *memberCache) get(convID, senderID string) (members []string, blockers map[string]bool, gen uint64, ok bool) {
	if c == nil {
		return nil, nil, 0, false
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.convs[convID][senderID]
	if ok && now.Before(e.expires) {
		return e.members, e.blockers, c.gen, true
	}
	return nil, nil, c.gen, false
}

// put records what a fill read, unless an invalidation came since get
// returned gen.
func (c *memberCache) put(gen uint64, convID, senderID string, members []string, blockers map[string]bool) {
	if c == nil {
		return
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.n >= c.max {
		c.sweep(now)
	}
	if c.n >= c.max {
		// Still full of live entries: start afresh rather than track
		// recency on every hit.
		clear(c.convs)
		c.n = 0
	}
	senders := c.convs[convID]
	if senders == nil {
		senders = make(map[string]memberEntry)
		c.convs[convID] = senders
	}
	if _, had := senders[senderID]; !had {
		c.n++
	}
	senders[senderID] = memberEntry{members: members, blockers: blockers, expires: now.Add(c.ttl)}
}

// sweep drops expired entries; c.mu is held.
func (c *memberCache) sweep(now time.Time) {
	for conv, senders := range c.convs {
		for sender, e := range senders {
			if !now.Before(e.expires) {
				delete(senders, sender)
				c.n--
			}
		}
		if len(senders) == 0 {
			delete(c.convs, conv)
		}
	}
}

// invalidate drops what inv names.
func (c *memberCache) invalidate(inv Invalidation) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if inv.All {
		clear(c.convs)
		c.n = 0
		return
	}
	for _, id := range inv.ConversationIDs {
		c.n -= len(c.convs[id])
		delete(c.convs, id)
	}
}

// len returns how many entries are cached (tests).
func (c *memberCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// invalidateMembers drops the cached member lists of convIDs (all of them
// when convIDs is empty) on this node at once, then on every node through
// the bus. Call it after the change is stored and before announcing it, so
// that whoever learns of the change from a frame finds every node's cache
// already without the stale entry (the bus delivers in order).
func (s *deps) invalidateMembers(ctx context.Context, convIDs ...string) {
	inv := Invalidation{ConversationIDs: convIDs, All: len(convIDs) == 0}
	s.members.invalidate(inv)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.hub.Publish(ctx, Event{Invalidate: &inv}); err != nil {
		// The other nodes' entries expire within the TTL; the append
		// refuses non-members meanwhile.
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: publish member cache invalidation",
			slog.Int("conversations", len(convIDs)), slog.Any("error", err))
	}
}
