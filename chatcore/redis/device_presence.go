package redis

import (
	"context"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.LivePresence = (*Presence)(nil)

// LiveDevices returns the devices of userIDs whose socket has not expired,
// reading each user's connection set in one pipelined round trip.
func (p *Presence) LiveDevices(ctx context.Context, userIDs []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(userIDs) == 0 {
		return out, nil
	}
	now := strconv.FormatInt(p.clock.Now().UnixMilli(), 10)
	pipe := p.client.Pipeline()
	cmds := make([]*goredis.StringSliceCmd, len(userIDs))
	for i, u := range userIDs {
		cmds[i] = pipe.ZRangeByScore(ctx, p.connsKey(u), &goredis.ZRangeBy{Min: "(" + now, Max: "+inf"})
	}
	if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
		return nil, fmt.Errorf("presence live devices: %w", err)
	}
	for _, c := range cmds {
		for _, conn := range c.Val() {
			if d, ok := chatcore.ConnDevice(conn); ok {
				out[d] = true
			}
		}
	}
	return out, nil
}
