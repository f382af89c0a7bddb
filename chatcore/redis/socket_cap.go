package redis

import (
	"context"
	"errors"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.SocketCapper = (*Presence)(nil)

// orderKey is the sorted set of a user's sockets by connect time (unix
// ms), next to the presence keys in the same cluster slot.
func (p *Presence) orderKey(userID string) string {
	return p.prefix + "presence:{" + userID + "}:order"
}

// capScript records a socket's connect time, forgets sockets presence no
// longer holds live, adopts live ones it never saw (connect time 0: the
// oldest) and returns the oldest beyond the cap. Those are kept with score
// -1 (closing) until they disconnect, so they are neither counted nor
// named again.
// KEYS: conns, order. ARGV: now_ms, conn_id, max, key_ttl_ms.
var capScript = goredis.NewScript(`
redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2])
local live = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
	live[id] = true
	if not redis.call('ZSCORE', KEYS[2], id) then redis.call('ZADD', KEYS[2], 0, id) end
end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
	if not live[id] and id ~= ARGV[2] then redis.call('ZREM', KEYS[2], id) end
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local n = redis.call('ZCOUNT', KEYS[2], 0, '+inf')
local max = tonumber(ARGV[3])
if n <= max then return {} end
local out = redis.call('ZRANGEBYSCORE', KEYS[2], 0, '+inf', 'LIMIT', 0, n - max)
for _, id in ipairs(out) do redis.call('ZADD', KEYS[2], 'XX', -1, id) end
return out
`)

// CapSockets implements chatcore.SocketCapper across every node sharing
// this Redis: it records connID (already Connected) as userID's newest
// socket and returns the ids of the oldest live ones beyond max.
func (p *Presence) CapSockets(ctx context.Context, userID, connID string, max int) ([]string, error) {
	if userID == "" || connID == "" || max < 1 {
		return nil, errors.New("redis: cap sockets: empty id or cap below 1")
	}
	now := p.clock.Now()
	ids, err := capScript.Run(ctx, p.client, []string{p.connsKey(userID), p.orderKey(userID)},
		now.UnixMilli(), connID, max, (2 * p.ttl).Milliseconds()).StringSlice()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("cap sockets %s: %w", userID, err)
	}
	return ids, nil
}
