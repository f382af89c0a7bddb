package inmem

import (
	"context"
	"sync"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.Presence = (*Presence)(nil)

// Presence tracks sockets in memory. Entries never expire: there is no
// other node to die without saying goodbye.
type Presence struct {
	mu       sync.Mutex
	conns    map[string]map[string]struct{} // user id → connection ids
	lastSeen map[string]time.Time
}

// NewPresence returns a Presence with nobody online.
func NewPresence() *Presence {
	return &Presence{conns: make(map[string]map[string]struct{}), lastSeen: make(map[string]time.Time)}
}

// Connect records a socket; becameOnline is true if it is the user's first.
func (p *Presence) Connect(_ context.Context, userID, connID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.conns[userID]
	if cs == nil {
		cs = make(map[string]struct{})
		p.conns[userID] = cs
	}
	cs[connID] = struct{}{}
	return len(cs) == 1, nil
}

// Disconnect removes a socket; becameOffline is true if it was the last.
func (p *Presence) Disconnect(_ context.Context, userID, connID string, now time.Time) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cs := p.conns[userID]
	if _, ok := cs[connID]; !ok {
		return false, nil
	}
	delete(cs, connID)
	if len(cs) > 0 {
		return false, nil
	}
	delete(p.conns, userID)
	p.lastSeen[userID] = now
	return true, nil
}

// Heartbeat does nothing: entries do not expire.
func (p *Presence) Heartbeat(context.Context, string, string) error { return nil }

// Status returns the user's presence.
func (p *Presence) Status(_ context.Context, userID string) (chatcore.PresenceStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns[userID]) > 0 {
		return chatcore.PresenceStatus{UserID: userID, Status: chatcore.PresenceOnline}, nil
	}
	return chatcore.PresenceStatus{UserID: userID, Status: chatcore.PresenceOffline, LastSeen: p.lastSeen[userID]}, nil
}

// Online reports, for each user, whether they have a socket.
func (p *Presence) Online(_ context.Context, userIDs []string) (map[string]bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]bool, len(userIDs))
	for _, id := range userIDs {
		out[id] = len(p.conns[id]) > 0
	}
	return out, nil
}
