package chatcore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestHashGateBoundsConcurrentHashes floods a two-slot gate: never more
// than two hashes run at once, and requests that cannot get a slot within
// the wait are told rate_limited with a Retry-After instead of piling up.
func TestHashGateBoundsConcurrentHashes(t *testing.T) {
	g := newHashGate(2, 50*time.Millisecond)
	release := make(chan struct{})
	var running, peak, ran atomic.Int64
	const n = 32
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- g.do(context.Background(), func() {
				cur := running.Add(1)
				for {
					p := peak.Load()
					if cur <= p || peak.CompareAndSwap(p, cur) {
						break
					}
				}
				<-release
				running.Add(-1)
				ran.Add(1)
			})
		}()
	}
	// The two holders block until every other request has given up.
	var limited int
	for limited < n-2 {
		err := <-errs
		if ErrorCode(err) != ERateLimited {
			t.Fatalf("turned-away request: got %v, want rate_limited", err)
		}
		if e := err.(*Error); e.RetryAfter <= 0 {
			t.Fatalf("rate_limited without Retry-After: %+v", e)
		}
		limited++
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("slot holder: got %v, want nil", err)
		}
	}
	if got := peak.Load(); got != 2 {
		t.Fatalf("peak concurrent hashes: got %d, want 2", got)
	}
	if got := ran.Load(); got != 2 {
		t.Fatalf("hashes run: got %d, want 2", got)
	}
}

// TestHashGateContextEnds: a caller whose request is gone does not hash.
func TestHashGateContextEnds(t *testing.T) {
	g := newHashGate(1, time.Hour)
	hold := make(chan struct{})
	go g.do(context.Background(), func() { <-hold })
	for len(g.slots) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := g.do(ctx, func() { ran = true }); ErrorCode(err) != ERateLimited || ran {
		t.Fatalf("cancelled caller: got err %v ran %v, want rate_limited and not run", err, ran)
	}
	close(hold)
}
