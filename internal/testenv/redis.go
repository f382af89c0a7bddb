package testenv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRedisAddr is the server tests use unless PARLEY_TEST_REDIS_ADDR says otherwise.
const DefaultRedisAddr = "127.0.0.1:6379"

// RedisAddr returns host:port of the Redis server tests use.
func RedisAddr() string {
	if a := os.Getenv("PARLEY_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return DefaultRedisAddr
}

// Redis leases a Redis database number (1–15) to tb, flushes it, and
// returns its URL (redis://host:port/N). Leases are held as keys in DB 0 so
// parallel test binaries never share a number; the lease ends with tb. It
// fails tb if Redis is unreachable or every number stays taken for a minute.
func Redis(tb testing.TB) string {
	tb.Helper()
	addr := RedisAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	admin := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	defer admin.Close()
	if err := admin.Ping(ctx).Err(); err != nil {
		tb.Fatalf("testenv: redis not reachable at %s: %v\n"+
			"start it (make services, or: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no) "+
			"or set PARLEY_TEST_REDIS_ADDR", addr, err)
	}
	token := randomHex(8)
	const leaseTTL = 15 * time.Minute
	for {
		for db := 1; db <= 15; db++ {
			key := fmt.Sprintf("parley:testenv:lease:%d", db)
			ok, err := admin.SetNX(ctx, key, token, leaseTTL).Result()
			if err != nil {
				tb.Fatalf("testenv: lease redis db: %v", err)
			}
			if !ok {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
			err = c.FlushDB(ctx).Err()
			c.Close()
			if err != nil {
				tb.Fatalf("testenv: flush redis db %d: %v", db, err)
			}
			tb.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				a := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
				defer a.Close()
				if v, _ := a.Get(ctx, key).Result(); v == token {
					a.Del(ctx, key)
				}
			})
			return fmt.Sprintf("redis://%s/%d", addr, db)
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("testenv: all 15 redis test databases stayed leased for a minute")
		case <-time.After(200 * time.Millisecond):
		}
	}
}
