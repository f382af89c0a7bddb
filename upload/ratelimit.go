package upload

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// userLimiter is a token bucket per user, kept in memory: with several chat
// nodes each node allows the rate (the daily quota, kept in the database,
// is global).
type userLimiter struct {
	every time.Duration // one token per
	burst int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim      *rate.Limiter
	lastUsed time.Time
}

func newUserLimiter(perMinute, burst int) *userLimiter {
	if perMinute < 0 {
		return nil
	}
	return &userLimiter{
		every:   time.Minute / time.Duration(perMinute),
		burst:   burst,
		buckets: make(map[string]*bucket),
	}
}

// allow takes a token for userID at now, or returns how long until one is
// available (and takes nothing).
func (u *userLimiter) allow(userID string, now time.Time) (bool, time.Duration) {
	if u == nil {
		return true, 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sweep(now)
	b := u.buckets[userID]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(u.every), u.burst)}
		u.buckets[userID] = b
	}
	b.lastUsed = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, u.every
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets that have refilled, at most once a minute, so the
// map holds only users active in the last refill period.
func (u *userLimiter) sweep(now time.Time) {
	if now.Sub(u.lastSweep) < time.Minute {
		return
	}
	u.lastSweep = now
	full := u.every * time.Duration(u.burst)
	for id, b := range u.buckets {
		if now.Sub(b.lastUsed) > full {
			delete(u.buckets, id)
		}
	}
}
