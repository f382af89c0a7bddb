package inmem

import (
	"context"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.LivePresence = (*Presence)(nil)

// LiveDevices returns the devices of userIDs with a connected socket.
func (p *Presence) LiveDevices(_ context.Context, userIDs []string) (map[string]bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]bool{}
	for _, u := range userIDs {
		for c := range p.conns[u] {
			if d, ok := chatcore.ConnDevice(c); ok {
				out[d] = true
			}
		}
	}
	return out, nil
}
