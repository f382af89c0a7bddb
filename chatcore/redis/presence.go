package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
)

// PresenceOptions configures a Presence. Every zero value means the
// documented default.
type PresenceOptions struct {
	// TTL is how long a connection counts as live after its last Connect
	// or Heartbeat. Call Heartbeat well within it (TTL/3 is customary). If
	// zero, 60s.
	TTL time.Duration
	// Prefix is prepended to every key. If empty, DefaultPrefix ("parley:").
	Prefix string
	// LastSeenTTL is how long a user's last_seen outlives their last
	// socket; after it they read as offline with no last_seen, and Redis
	// holds nothing for users who stopped coming. If zero, 30 days.
	LastSeenTTL time.Duration
	// Clock decides what "now" is for Connect, Heartbeat, Status and
	// Online (Disconnect takes its time as an argument). Every node must
	// agree on the time within a small fraction of TTL. If nil, the system
	// clock.
	Clock chatcore.Clock
	// Logger receives heartbeats for connections that are no longer
	// recorded. If nil, slog.Default().
	Logger *slog.Logger
}

// Presence is a chatcore.Presence shared by every node on one Redis.
//
// Keys, for a user U (the hash tag keeps both in one Redis Cluster slot):
//
//	{prefix}presence:{U}:conns  sorted set: connection id → expiry (unix ms)
//	{prefix}presence:{U}:seen   string: last_seen (unix ms), expires after LastSeenTTL
//
// A user is online while some member of conns has an expiry in the future.
// The conns key itself expires 2×TTL after its last write, so users of dead
// nodes leave nothing behind.
type Presence struct {
	client goredis.UniversalClient
	ttl    time.Duration
	seen   time.Duration
	prefix string
	clock  chatcore.Clock
	log    *slog.Logger
}

var _ chatcore.Presence = (*Presence)(nil)

// NewPresence returns a Presence on client.
func NewPresence(client goredis.UniversalClient, opts PresenceOptions) *Presence {
	if opts.TTL <= 0 {
		opts.TTL = 60 * time.Second
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.LastSeenTTL <= 0 {
		opts.LastSeenTTL = 30 * 24 * time.Hour
	}
	if opts.Clock == nil {
		opts.Clock = chatcore.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Presence{
		client: client,
		ttl:    opts.TTL,
		seen:   opts.LastSeenTTL,
		prefix: opts.Prefix,
		clock:  opts.Clock,
		log:    opts.Logger.With(slog.String("component", "presence")),
	}
}

// TTL returns the effective entry lifetime.
func (p *Presence) TTL() time.Duration { return p.ttl }

func (p *Presence) connsKey(userID string) string {
	return p.prefix + "presence:{" + userID + "}:conns"
}

func (p *Presence) seenKey(userID string) string {
	return p.prefix + "presence:{" + userID + "}:seen"
}

// connectScript prunes expired entries, adds the connection and reports
// whether no other live connection existed.
// KEYS: conns. ARGV: now_ms, expiry_ms, conn_id, key_ttl_ms.
var connectScript = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local live = redis.call('ZCARD', KEYS[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if live == 0 then return 1 end
return 0
`)

// disconnectScript removes the connection, prunes expired entries and, if
// none is left, records last_seen (never moving it backwards) and restarts
// its expiry. It reports
// whether this call removed the user's last connection. An entry that had
// expired silently still counts: nobody was told the user went offline.
// KEYS: conns, seen. ARGV: now_ms, conn_id, seen_ttl_ms.
var disconnectScript = goredis.NewScript(`
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
local seen = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[1]) > seen then
	redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
else
	redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
return removed
`)

// heartbeatScript extends a recorded connection and reports whether it was
// recorded. It never re-creates an entry: a heartbeat racing a Disconnect
// must not leave a ghost online for a whole TTL.
// KEYS: conns. ARGV: expiry_ms, conn_id, key_ttl_ms.
var heartbeatScript = goredis.NewScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Connect records a socket; becameOnline is true if the user had no other
// live socket on any node (entries left by dead nodes do not count).
// Connecting an already recorded live connID again refreshes it and reports
// false.
func (p *Presence) Connect(ctx context.Context, userID, connID string) (bool, error) {
	if userID == "" || connID == "" {
		return false, errors.New("redis: presence connect: empty user or connection id")
	}
	now := p.clock.Now()
	n, err := connectScript.Run(ctx, p.client, []string{p.connsKey(userID)},
		now.UnixMilli(), now.Add(p.ttl).UnixMilli(), connID, (2 * p.ttl).Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("presence connect %s: %w", userID, err)
	}
	return n == 1, nil
}

// Disconnect removes a socket; becameOffline is true if it was the user's
// last one, and then last_seen is set to now. A connection already removed
// reports false; one that had expired while no other was live reports true
// (the expiry itself told nobody).
func (p *Presence) Disconnect(ctx context.Context, userID, connID string, now time.Time) (bool, error) {
	if userID == "" || connID == "" {
		return false, errors.New("redis: presence disconnect: empty user or connection id")
	}
	n, err := disconnectScript.Run(ctx, p.client, []string{p.connsKey(userID), p.seenKey(userID)},
		now.UnixMilli(), connID, p.seen.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("presence disconnect %s: %w", userID, err)
	}
	return n == 1, nil
}

// Heartbeat keeps a socket's entry alive for another TTL. It does not
// resurrect an entry that expired or was disconnected (logged at warn): the
// caller should Connect again if the socket is still open.
func (p *Presence) Heartbeat(ctx context.Context, userID, connID string) error {
	exp := p.clock.Now().Add(p.ttl).UnixMilli()
	n, err := heartbeatScript.Run(ctx, p.client, []string{p.connsKey(userID)},
		exp, connID, (2 * p.ttl).Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("presence heartbeat %s: %w", userID, err)
	}
	if n == 0 {
		p.log.WarnContext(ctx, "presence heartbeat for unknown connection",
			slog.String("user_id", userID), slog.String("conn_id", connID))
	}
	return nil
}

// Status returns the user's presence in one round trip. A user never seen
// is offline with a zero LastSeen. A user whose sockets all expired (their
// node died) is offline with LastSeen at their last heartbeat, if that is
// newer than the stored last_seen.
func (p *Presence) Status(ctx context.Context, userID string) (chatcore.PresenceStatus, error) {
	now := p.clock.Now().UnixMilli()
	ck := p.connsKey(userID)
	pipe := p.client.Pipeline()
	live := pipe.ZCount(ctx, ck, "("+strconv.FormatInt(now, 10), "+inf")
	seen := pipe.Get(ctx, p.seenKey(userID))
	top := pipe.ZRangeWithScores(ctx, ck, -1, -1)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return chatcore.PresenceStatus{}, fmt.Errorf("presence status %s: %w", userID, err)
	}
	st := chatcore.PresenceStatus{UserID: userID, Status: "offline"}
	if live.Val() > 0 {
		st.Status = "online"
		return st, nil
	}
	lastMS, _ := strconv.ParseInt(seen.Val(), 10, 64)
	if z := top.Val(); len(z) == 1 {
		if hb := int64(z[0].Score) - p.ttl.Milliseconds(); hb > lastMS {
			lastMS = hb
		}
	}
	if lastMS > 0 {
		st.LastSeen = time.UnixMilli(lastMS).UTC()
	}
	return st, nil
}

// Online reports, for each given user, whether they have a live socket on
// any node, in one round trip. Every given id is a key of the result.
func (p *Presence) Online(ctx context.Context, userIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	from := "(" + strconv.FormatInt(p.clock.Now().UnixMilli(), 10)
	pipe := p.client.Pipeline()
	cmds := make(map[string]*goredis.IntCmd, len(userIDs))
	for _, id := range userIDs {
		if _, ok := cmds[id]; ok {
			continue
		}
		cmds[id] = pipe.ZCount(ctx, p.connsKey(id), from, "+inf")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("presence online (%d users): %w", len(cmds), err)
	}
	for id, c := range cmds {
		out[id] = c.Val() > 0
	}
	return out, nil
}
