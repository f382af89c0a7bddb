package workers

import (
	"context"

	goredis "github.com/redis/go-redis/v9"
)

// This file is the one place Parley touches asynq's private Redis layout.
// asynq's public API (Inspector) shows an active task but neither tells
// whether it still has a lease nor gives it one, and an active task whose
// lease entry is gone (a Redis failover or eviction) is never recovered:
// asynq issue #1144 (fix proposed in asynq pull request #1158). When asynq
// recovers such tasks itself, delete this file and the reconciler's
// TaskStateActive case. TestLeaseKeyLayout fails if an asynq upgrade moves
// the key.

// leaseKey is the sorted set asynq keeps the leases of a queue's active
// tasks in: member the task id, score the lease's expiry in Unix seconds.
// asynq's recoverer retries or archives the tasks whose lease expired.
func leaseKey(queue string) string { return "asynq:{" + queue + "}:lease" }

// restoreExpiredLease gives the active task id of queue a lease that
// expired in 1970 (on asynq's clock too) if it has none, so that asynq's
// recoverer, which every worker runs each minute, hands it back like a
// crashed worker's. A live lease is left alone. It reports whether it
// added one.
func restoreExpiredLease(ctx context.Context, rdb goredis.UniversalClient, queue, id string) (bool, error) {
	n, err := rdb.ZAddNX(ctx, leaseKey(queue), goredis.Z{Score: 0, Member: id}).Result()
	return n == 1, err
}
