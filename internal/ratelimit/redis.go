package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/batch"
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

// gcraScript is a token bucket per key kept as one number, the
// theoretical arrival time (TAT) of the generic cell rate algorithm, as
// go-redis/redis_rate does: a request is allowed when TAT + interval lies
// within burst intervals of now. Time is Redis's own (TIME), so nodes with
// skewed clocks still share one bucket. The key expires once the bucket is
// full again. It takes one token for each of KEYS, in order (a key may
// repeat), and returns {1, 0} or {0, retry_after_µs} for each: one call
// answers a whole batch of requests (batch below). The keys of a batch are
// not in one hash slot, so this needs a single Redis or a Sentinel group,
// not Redis Cluster (which Parley does not support).
var gcraScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local out = {}
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - interval * burst
  if allow_at > now then
    out[2*i-1] = 0
    out[2*i] = math.ceil(allow_at - now)
  else
    redis.call('SET', key, string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
    out[2*i-1] = 1
    out[2*i] = 0
  end
end
return out
`)

// Batching: Allow calls of one limiter that arrive together are answered
// by one script call (one round trip, one script run), as group commit
// does for messages: a flusher takes whatever is queued, up to maxBatch,
// and while its call is in flight the next batch gathers. At low load a
// lone request waits for nobody.
const (
	maxBatch    = 256
	maxFlushers = 2
)

type allowReq struct {
	key  string
	done chan allowResult // buffered: the flusher never blocks on it
}

type allowResult struct {
	ok    bool
	retry time.Duration
	err   error
}

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

	q batch.Queue[*allowReq] // Allow calls waiting for a script call (run)
	// calls counts script calls, for tests and benchmarks.
	calls atomic.Int64
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
	l.q.Run, l.q.MaxBatch, l.q.Flushers = l.run, maxBatch, maxFlushers
	if perSecond <= 0 || burst <= 0 {
		l.off = true // as Keyed: negative disables; zero is never configured (defaults apply)
		return l
	}
	l.interval = 1e6 / perSecond
	return l
}

// Allow takes one token for key from the bucket in Redis. now is unused:
// Redis's clock decides, so that all nodes agree. Concurrent calls share
// one round trip (see Batching).
func (l *Redis) Allow(key string, _ time.Time) (bool, time.Duration) {
	if l.off {
		return true, 0
	}
	r := &allowReq{key: l.prefix + key, done: make(chan allowResult, 1)}
	l.q.Add(r)
	t := time.NewTimer(RedisTimeout)
	defer t.Stop()
	select {
	case res := <-r.done:
		if res.err != nil {
			l.warn(res.err)
			return true, 0
		}
		return res.ok, res.retry
	case <-t.C:
		l.warn(fmt.Errorf("no answer within %s", RedisTimeout))
		return true, 0
	}
}

// ScriptCalls returns how many script calls (round trips) answered Allow
// calls so far.
func (l *Redis) ScriptCalls() int64 { return l.calls.Load() }

// run asks Redis about batch in one script call and answers each request.
func (l *Redis) run(batch []*allowReq) {
	ctx, cancel := context.WithTimeout(context.Background(), RedisTimeout)
	defer cancel()
	keys := make([]string, len(batch))
	for i, r := range batch {
		keys[i] = r.key
	}
	l.calls.Add(1)
	res, err := gcraScript.Run(ctx, l.rdb, keys,
		strconv.FormatFloat(l.interval, 'f', 3, 64), l.burst).Int64Slice()
	if err == nil && len(res) != 2*len(batch) {
		err = fmt.Errorf("script returned %d values for %d keys", len(res), len(batch))
	}
	for i, r := range batch {
		if err != nil {
			r.done <- allowResult{err: err}
			continue
		}
		r.done <- allowResult{ok: res[2*i] == 1, retry: time.Duration(res[2*i+1]) * time.Microsecond}
	}
}

func (l *Redis) warn(err error) {
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if now-last < int64(time.Minute) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("rate limit: redis unavailable, allowing requests", slog.String("limiter", l.prefix), slog.Any("error", err))
}
