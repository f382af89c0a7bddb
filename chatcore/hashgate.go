package chatcore

import (
	"context"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// Password hashing bounds.
const (
	// DefaultHashWait is how long a login or registration waits for a free
	// hashing slot before it is answered rate_limited (429, Retry-After).
	DefaultHashWait = 3 * time.Second
	// hashBusyRetry is the Retry-After of a request turned away because
	// every hashing slot stayed busy.
	hashBusyRetry = time.Second
	// hashIdleFree is how long hashing must stay idle after a burst before
	// the freed argon2 memory is handed back to the OS.
	hashIdleFree = 500 * time.Millisecond
	msgHashBusy  = "too many logins in progress; retry shortly"
)

// hashGate bounds concurrent argon2id hashes. Each one allocates its full
// memory cost (19 MiB at the default parameters), so without a bound a
// flood of logins multiplies that by the number of requests in flight: 64
// at once took a node to 1.2–2.0 GiB RSS, and the Go runtime kept it. With
// one slot per CPU the hashes run no slower in total (they are CPU-bound),
// live hash memory stays at slots × 19 MiB, and after a burst the memory
// is returned to the OS.
type hashGate struct {
	slots   chan struct{}
	wait    time.Duration
	pending atomic.Int64 // requests waiting for or holding a slot
	armed   atomic.Bool  // a FreeOSMemory check is scheduled
}

// newHashGate returns a gate with n slots (0 = GOMAXPROCS) and a wait
// bound (0 = DefaultHashWait).
func newHashGate(n int, wait time.Duration) *hashGate {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	if wait <= 0 {
		wait = DefaultHashWait
	}
	return &hashGate{slots: make(chan struct{}, n), wait: wait}
}

// do runs fn in a hashing slot. When no slot frees up within the wait, or
// ctx ends first, fn does not run and the error is ERateLimited with a
// Retry-After: the same answer for known and unknown users, so a busy node
// reveals nothing about which usernames exist.
func (g *hashGate) do(ctx context.Context, fn func()) error {
	g.pending.Add(1)
	defer g.release()
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-t.C:
		return &Error{Code: ERateLimited, Message: msgHashBusy, RetryAfter: hashBusyRetry}
	case <-ctx.Done():
		return &Error{Code: ERateLimited, Message: msgHashBusy, RetryAfter: hashBusyRetry}
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}

// release ends one request; the last one of a burst schedules handing the
// hashes' memory back to the OS once hashing has stayed idle for a moment.
// debug.FreeOSMemory forces a GC, so it runs at most once per idle period,
// not per login.
func (g *hashGate) release() {
	if g.pending.Add(-1) != 0 || !g.armed.CompareAndSwap(false, true) {
		return
	}
	time.AfterFunc(hashIdleFree, func() {
		g.armed.Store(false)
		if g.pending.Load() == 0 {
			debug.FreeOSMemory()
		}
	})
}
