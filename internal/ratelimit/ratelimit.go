// Package ratelimit holds the per-key token buckets Parley puts on
// everything a client controls: requests per IP, sends per user, uploads per
// user. Keyed keeps the buckets in the process (parley dev, uploads): with N
// nodes each allows the rate. Redis keeps them in Redis (parley serve's
// request, auth and send limits), so the rate holds across nodes.
//
//	l := ratelimit.New(20, 40) // 20/s sustained, 40 at once, per key
//	if ok, wait := l.Allow(userID, time.Now()); !ok {
//		// answer 429 with Retry-After: wait
//	}
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Keyed is a token bucket per key (user id, client IP). Buckets idle long
// enough to be full again are swept lazily, so memory follows the number of
// recently active keys, not all keys ever seen. Safe for concurrent use.
type Keyed struct {
	limit rate.Limit
	burst int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter allowing perSecond sustained and burst at once per
// key; a negative perSecond or burst disables it (Allow always succeeds).
func New(perSecond float64, burst int) *Keyed {
	l := &Keyed{limit: rate.Limit(perSecond), burst: burst, buckets: make(map[string]*bucket)}
	if perSecond < 0 || burst < 0 {
		l.limit = rate.Inf
	}
	return l
}

// Allow takes one token for key at now; when none is left it takes nothing
// and reports how long until one is.
func (l *Keyed) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	if l.limit == rate.Inf {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Minute
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops buckets unused for longer than it takes to refill them, at
// most once a minute.
func (l *Keyed) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	refill := time.Duration(float64(l.burst)/float64(l.limit)*float64(time.Second)) + time.Second
	for k, b := range l.buckets {
		if now.Sub(b.seen) > refill {
			delete(l.buckets, k)
		}
	}
}

// Len is the number of keys with a bucket (for tests and metrics).
func (l *Keyed) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
