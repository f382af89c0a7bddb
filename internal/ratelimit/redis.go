package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter is what the edge asks before it does work for a key: Keyed
// keeps its buckets in the process, Redis in Redis so that every node
// draws from the same bucket.
type Limiter interface {
	// Allow takes one token for key; when none is left it takes nothing
	// and reports how long until one is.
	Allow(key string, now time.Time) (ok bool, retryAfter time.Duration)
}

// Factory builds the limiter named name (a key prefix: "auth", "msg")
// allowing perSecond sustained and burst at once per key; a negative
// perSecond or burst disables it.
type Factory func(name string, perSecond float64, burst int) Limiter

// InProcess is the Factory of Keyed limiters (parley dev, tests).
func InProcess(_ string, perSecond float64, burst int) Limiter { return New(perSecond, burst) }

var (
	_ Limiter = (*Keyed)(nil)
	_ Limiter = (*Redis)(nil)
)

// gcraScript is a token bucket kept as one number per key, the
// theoretical arrival time (TAT) of the generic cell rate algorithm, as
// go-redis/redis_rate does: a request is allowed when TAT + interval lies
// within burst intervals of now. Time is Redis's own (TIME), so nodes with
// skewed clocks still share one bucket. The key expires once the bucket is
// full again. Returns {1, 0} or {0, retry_after_µs}.
var gcraScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then
  return {0, math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, 0}
`)

// RedisTimeout bounds each Allow's round trip to Redis.
const RedisTimeout = 250 * time.Millisecond

// Redis is a per-key token bucket held in Redis, shared by every node that
// uses the same name and Redis. When Redis does not answer within
// RedisTimeout the request is allowed (fail open: a Redis outage must not
// lock users out of a chat that keeps working on the nodes it reaches), and
// a warning is logged at most once a minute.
type Redis struct {
	rdb      redis.UniversalClient
	prefix   string
	interval float64 // µs per token
	burst    int
	off      bool
	log      *slog.Logger
	lastWarn atomic.Int64
}

// RedisFactory returns a Factory of limiters on rdb under parley:rl:<name>:.
func RedisFactory(rdb redis.UniversalClient, log *slog.Logger) Factory {
	return func(name string, perSecond float64, burst int) Limiter {
		return NewRedis(rdb, name, perSecond, burst, log)
	}
}

// NewRedis returns the limiter name on rdb; see Factory for the arguments.
// A nil log is slog.Default().
func NewRedis(rdb redis.UniversalClient, name string, perSecond float64, burst int, log *slog.Logger) *Redis {
	if log == nil {
		log = slog.Default()
	}
	l := &Redis{rdb: rdb, prefix: "parley:rl:" + name + ":", burst: burst, log: log}
	if perSecond <= 0 || burst <= 0 {
		l.off = true // as Keyed: negative disables; zero is never configured (defaults apply)
		return l
	}
	l.interval = 1e6 / perSecond
	return l
}

// Allow takes one token for key from the bucket in Redis. now is unused:
// Redis's clock decides, so that all nodes agree.
func (l *Redis) Allow(key string, _ time.Time) (bool, time.Duration) {
	if l.off {
		return true, 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), RedisTimeout)
	defer cancel()
	res, err := gcraScript.Run(ctx, l.rdb, []string{l.prefix + key},
		strconv.FormatFloat(l.interval, 'f', 3, 64), l.burst).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("script returned %v", res)
	}
	if err != nil {
		l.warn(err)
		return true, 0
	}
	if res[0] == 1 {
		return true, 0
	}
	return false, time.Duration(res[1]) * time.Microsecond
}

func (l *Redis) warn(err error) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(time.Minute) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("rate limit: redis unavailable, allowing requests", slog.String("limiter", l.prefix), slog.Any("error", err))
}
