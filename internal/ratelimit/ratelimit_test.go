package ratelimit

import (
	"testing"
	"time"
)

func TestKeyedAllowsBurstThenRefills(t *testing.T) {
	l := New(2, 3) // 2/s, burst 3
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.Allow("alice", now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.Allow("alice", now)
	if ok {
		t.Fatalf("4th request in the same instant allowed; want refused")
	}
	if wait <= 0 || wait > 500*time.Millisecond {
		t.Fatalf("retry after: got %v, want (0, 500ms]", wait)
	}
	if ok, _ := l.Allow("bob", now); !ok {
		t.Fatalf("another key was limited by alice's use")
	}
	if ok, _ := l.Allow("alice", now.Add(wait)); !ok {
		t.Fatalf("request after the advertised wait refused")
	}
}

func TestKeyedRefusedRequestsCostNothing(t *testing.T) {
	l := New(1, 1)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	l.Allow("k", now)
	for range 10 {
		l.Allow("k", now) // refused, must not borrow from the future
	}
	if ok, _ := l.Allow("k", now.Add(time.Second)); !ok {
		t.Fatalf("refused requests pushed the next token further away")
	}
}

func TestKeyedNegativeDisables(t *testing.T) {
	l := New(-1, 0)
	for range 1000 {
		if ok, _ := l.Allow("k", time.Now()); !ok {
			t.Fatalf("disabled limiter refused a request")
		}
	}
}

func TestKeyedForgetsIdleKeys(t *testing.T) {
	l := New(10, 10)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, k := range []string{"a", "b", "c"} {
		l.Allow(k, now)
	}
	l.Allow("d", now.Add(2*time.Minute))
	if got := l.Len(); got != 1 {
		t.Fatalf("buckets after the others went idle: got %d, want 1", got)
	}
}
