package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/internal/testenv"
)

func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRedisLimitHoldsAcrossNodes: two nodes (two limiters on one Redis),
// one user sending through both alternately: together they allow the
// burst once, not once per node, and say when to retry.
func TestRedisLimitHoldsAcrossNodes(t *testing.T) {
	rdb := redisClient(t)
	const burst = 10
	// One token an hour: nothing refills during the test.
	nodeA := ratelimit.NewRedis(rdb, "msg", 1.0/3600, burst, nil)
	nodeB := ratelimit.NewRedis(rdb, "msg", 1.0/3600, burst, nil)
	allowed := 0
	var retry time.Duration
	for i := 0; i < 4*burst; i++ {
		node := nodeA
		if i%2 == 1 {
			node = nodeB
		}
		ok, wait := node.Allow("user-1", time.Now())
		if ok {
			allowed++
		} else {
			retry = wait
		}
	}
	if allowed != burst {
		t.Fatalf("allowed across two nodes: got %d, want %d (the burst, once)", allowed, burst)
	}
	if retry < 59*time.Minute || retry > time.Hour {
		t.Fatalf("retry after: got %v, want about 1h (one token's interval)", retry)
	}
	// Other keys and other limiter names have their own buckets.
	if ok, _ := nodeB.Allow("user-2", time.Now()); !ok {
		t.Fatal("another user was limited by user-1's bucket")
	}
	other := ratelimit.NewRedis(rdb, "auth", 1.0/3600, 1, nil)
	if ok, _ := other.Allow("user-1", time.Now()); !ok {
		t.Fatal("another limiter name shared user-1's bucket")
	}
}

// TestRedisLimitRefills: tokens come back at the configured rate.
func TestRedisLimitRefills(t *testing.T) {
	rdb := redisClient(t)
	l := ratelimit.NewRedis(rdb, "req", 50, 1, nil) // one token per 20 ms
	if ok, _ := l.Allow("k", time.Now()); !ok {
		t.Fatal("first request limited")
	}
	ok, wait := l.Allow("k", time.Now())
	if ok || wait <= 0 || wait > 20*time.Millisecond {
		t.Fatalf("second request: got ok=%v wait=%v, want limited with wait in (0, 20ms]", ok, wait)
	}
	time.Sleep(wait + 5*time.Millisecond)
	if ok, _ := l.Allow("k", time.Now()); !ok {
		t.Fatal("request after the retry-after was limited")
	}
	// The key expires once the bucket is full again.
	if ttl := rdb.PTTL(t.Context(), "parley:rl:req:k").Val(); ttl <= 0 || ttl > time.Second {
		t.Fatalf("bucket key ttl: got %v, want (0, 1s]", ttl)
	}
}

// TestRedisDisabledAndDown: negative limits allow everything without
// touching Redis; an unreachable Redis fails open.
func TestRedisDisabledAndDown(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer down.Close()
	if ok, _ := ratelimit.NewRedis(down, "x", -1, 0, nil).Allow("k", time.Now()); !ok {
		t.Fatal("disabled limiter limited")
	}
	l := ratelimit.NewRedis(down, "x", 1, 1, nil)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("k", time.Now()); !ok {
			t.Fatal("limiter limited while redis was down; want fail open")
		}
	}
}

// slowRedis delays every command by d, as a distant or busy Redis would.
type slowRedis struct{ d time.Duration }

func (h slowRedis) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h slowRedis) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		time.Sleep(h.d)
		return next(ctx, cmd)
	}
}
func (h slowRedis) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestRedisLimitConcurrentBatches: a burst of concurrent sends from two
// nodes through a Redis 30 ms away. One round trip each would leave most
// of them waiting past RedisTimeout (and allowed, failing open); batched,
// every one is answered, the burst holds in total, and the round trips
// are a handful.
func TestRedisLimitConcurrentBatches(t *testing.T) {
	const burst, perNode = 10, 50
	opt, err := redis.ParseURL(testenv.Redis(t))
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*ratelimit.Redis
	for range 2 {
		rdb := redis.NewClient(opt) // one Redis database, a client per node
		t.Cleanup(func() { rdb.Close() })
		rdb.AddHook(slowRedis{30 * time.Millisecond})
		nodes = append(nodes, ratelimit.NewRedis(rdb, "msg", 1.0/3600, burst, nil))
	}
	var allowed, other atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, n := range nodes {
		for i := range perNode {
			wg.Go(func() {
				<-start
				key := "user-1"
				if i%5 == 0 {
					key = fmt.Sprintf("user-%d", 100+i) // others are not held up
				}
				if ok, _ := n.Allow(key, time.Now()); ok && key == "user-1" {
					allowed.Add(1)
				} else if ok {
					other.Add(1)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	if got := allowed.Load(); got != burst {
		t.Fatalf("user-1 allowed across two nodes: got %d, want %d", got, burst)
	}
	if got, want := other.Load(), int64(2*perNode/5); got != want {
		t.Fatalf("other users allowed: got %d, want %d", got, want)
	}
	calls := nodes[0].ScriptCalls() + nodes[1].ScriptCalls()
	if calls > 2*perNode/4 {
		t.Fatalf("script calls for %d requests: got %d, want a few batches", 2*perNode, calls)
	}
	t.Logf("%d requests, %d script calls", 2*perNode, calls)
}

// roundTrips counts a client's round trips.
type roundTrips struct{ n *atomic.Int64 }

func (h roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// BenchmarkRedisAllowParallel measures send-limit checks from many
// goroutines at once (16 per core, 1,000 users): checks/s and Redis round
// trips per check (below 1 when checks share a script call).
//
//	go test -run '^$' -bench BenchmarkRedisAllowParallel -benchmem ./internal/ratelimit/
func BenchmarkRedisAllowParallel(b *testing.B) {
	opt, err := redis.ParseURL(testenv.Redis(b))
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	b.Cleanup(func() { rdb.Close() })
	var trips atomic.Int64
	rdb.AddHook(roundTrips{&trips})
	l := ratelimit.NewRedis(rdb, "bench", 1e9, 1e9, nil)
	var next atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow(fmt.Sprintf("user-%d", next.Add(1)%1000), time.Now())
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
	b.ReportMetric(float64(trips.Load())/float64(b.N), "trips/check")
}
