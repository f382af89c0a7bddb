package redis_test

import (
	"fmt"
	"github.com/parley-chat/parley/chatcore/inmem"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/redis"
)

func newPresence(tb testing.TB, client goredis.UniversalClient, prefix string, ttl time.Duration) *redis.Presence {
	tb.Helper()
	return redis.NewPresence(client, redis.PresenceOptions{TTL: ttl, Prefix: prefix, Logger: quietLogger()})
}

func mustStatus(tb testing.TB, p *redis.Presence, userID string) chatcore.PresenceStatus {
	tb.Helper()
	st, err := p.Status(testContext(tb), userID)
	if err != nil {
		tb.Fatalf("status %s: %v", userID, err)
	}
	return st
}

func mustOnline(tb testing.TB, p *redis.Presence, ids ...string) map[string]bool {
	tb.Helper()
	m, err := p.Online(testContext(tb), ids)
	if err != nil {
		tb.Fatalf("online %v: %v", ids, err)
	}
	return m
}

// TestPresenceAcrossNodes walks one user through sockets on two nodes:
// online from the first connect anywhere, offline only when the last closes.
func TestPresenceAcrossNodes(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			nodes := map[string]*redis.Presence{
				"a": newPresence(t, be.open(t), prefix, time.Minute),
				"b": newPresence(t, be.open(t), prefix, time.Minute),
			}
			const user = "u1"
			if st := mustStatus(t, nodes["a"], user); st.Status != "offline" || !st.LastSeen.IsZero() {
				t.Fatalf("never seen: got %+v, want offline with zero last_seen", st)
			}
			offlineAt := time.Now().Add(-time.Second).Truncate(time.Millisecond)
			steps := []struct {
				name       string
				node       string
				disconnect bool
				conn       string
				want       bool // becameOnline or becameOffline
				wantStatus string
			}{
				{"first socket on a", "a", false, "c1", true, "online"},
				{"second socket on b", "b", false, "c2", false, "online"},
				{"same socket again on b", "b", false, "c2", false, "online"},
				{"a closes, b still open", "a", true, "c1", false, "online"},
				{"unknown socket closes", "a", true, "nope", false, "online"},
				{"last socket closes on b", "b", true, "c2", true, "offline"},
				{"closing twice", "b", true, "c2", false, "offline"},
			}
			for _, s := range steps {
				var got bool
				var err error
				if s.disconnect {
					got, err = nodes[s.node].Disconnect(ctx, user, s.conn, offlineAt)
				} else {
					got, err = nodes[s.node].Connect(ctx, user, s.conn)
				}
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got != s.want {
					t.Errorf("%s: transition got %v, want %v", s.name, got, s.want)
				}
				for name, n := range nodes {
					if st := mustStatus(t, n, user); st.Status != s.wantStatus {
						t.Errorf("%s: status on node %s got %q, want %q", s.name, name, st.Status, s.wantStatus)
					}
					if got := mustOnline(t, n, user)[user]; got != (s.wantStatus == "online") {
						t.Errorf("%s: online on node %s got %v, want %v", s.name, name, got, s.wantStatus == "online")
					}
				}
			}
			st := mustStatus(t, nodes["a"], user)
			if !st.LastSeen.Equal(offlineAt) || st.UserID != user {
				t.Errorf("after offline: got %+v, want user %s last_seen %v", st, user, offlineAt)
			}
			// An older disconnect never moves last_seen backwards.
			if _, err := nodes["a"].Connect(ctx, user, "c3"); err != nil {
				t.Fatal(err)
			}
			if _, err := nodes["a"].Disconnect(ctx, user, "c3", offlineAt.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if st := mustStatus(t, nodes["a"], user); !st.LastSeen.Equal(offlineAt) {
				t.Errorf("last_seen after older disconnect: got %v, want %v", st.LastSeen, offlineAt)
			}
			// last_seen expires (default 30 days) so that Redis forgets users who left.
			client := be.open(t)
			ttl, err := client.PTTL(ctx, prefix+"presence:{"+user+"}:seen").Result()
			if err != nil {
				t.Fatal(err)
			}
			if want := 30 * 24 * time.Hour; ttl < want-time.Minute || ttl > want {
				t.Errorf("last_seen ttl: got %v, want about %v", ttl, want)
			}
		})
	}
}

// TestPresenceConcurrentTransitions connects and disconnects many sockets
// of one user from two nodes at once: exactly one connect reports online
// and exactly one disconnect reports offline.
func TestPresenceConcurrentTransitions(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			nodes := []*redis.Presence{
				newPresence(t, be.open(t), prefix, time.Minute),
				newPresence(t, be.open(t), prefix, time.Minute),
			}
			const sockets = 32
			run := func(op func(i int) (bool, error)) int64 {
				var wg sync.WaitGroup
				var transitions atomic.Int64
				for i := range sockets {
					wg.Go(func() {
						got, err := op(i)
						if err != nil {
							t.Errorf("socket %d: %v", i, err)
						}
						if got {
							transitions.Add(1)
						}
					})
				}
				wg.Wait()
				return transitions.Load()
			}
			online := run(func(i int) (bool, error) {
				return nodes[i%2].Connect(ctx, "u", fmt.Sprint("c", i))
			})
			if online != 1 {
				t.Errorf("connects reporting online: got %d, want 1", online)
			}
			offline := run(func(i int) (bool, error) {
				return nodes[i%2].Disconnect(ctx, "u", fmt.Sprint("c", i), time.Now())
			})
			if offline != 1 {
				t.Errorf("disconnects reporting offline: got %d, want 1", offline)
			}
		})
	}
}

// TestPresenceDeadNodeExpires: node a connects and dies (no heartbeat, no
// disconnect); its entry expires by itself while node b's heartbeated one
// stays. The clock is fake, so scheduling delays cannot flake it.
func TestPresenceDeadNodeExpires(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			const ttl = time.Minute
			clock := inmem.NewClock(time.Now().Truncate(time.Millisecond))
			opts := redis.PresenceOptions{TTL: ttl, Prefix: prefix, Clock: clock, Logger: quietLogger()}
			dead := redis.NewPresence(be.open(t), opts)
			alive := redis.NewPresence(be.open(t), opts)

			connectedAt := clock.Now()
			if _, err := dead.Connect(ctx, "ghost", "c1"); err != nil {
				t.Fatal(err)
			}
			if _, err := alive.Connect(ctx, "kept", "c2"); err != nil {
				t.Fatal(err)
			}
			if got := mustOnline(t, alive, "ghost", "kept"); !got["ghost"] || !got["kept"] {
				t.Fatalf("right after connect: got %v, want both online", got)
			}
			clock.Advance(ttl * 2 / 3)
			if err := alive.Heartbeat(ctx, "kept", "c2"); err != nil {
				t.Fatalf("heartbeat: %v", err)
			}
			clock.Advance(ttl * 2 / 3) // ghost's entry is now ttl/3 past its expiry
			if got := mustOnline(t, alive, "ghost", "kept"); got["ghost"] || !got["kept"] {
				t.Errorf("after ttl: got %v, want ghost offline, kept online", got)
			}
			st := mustStatus(t, alive, "ghost")
			// last_seen falls back to the dead entry's last heartbeat.
			if want := (chatcore.PresenceStatus{UserID: "ghost", Status: "offline", LastSeen: connectedAt.UTC()}); st != want {
				t.Errorf("ghost status: got %+v, want %+v", st, want)
			}
			// Coming back counts as a new online transition.
			if got, err := alive.Connect(ctx, "ghost", "c3"); err != nil || !got {
				t.Errorf("reconnect after expiry: got %v, %v; want true, nil", got, err)
			}
		})
	}
}

// TestPresenceHeartbeatAfterDisconnect: a heartbeat racing a socket's close
// must not bring the user back online.
func TestPresenceHeartbeatAfterDisconnect(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			p := newPresence(t, be.open(t), uniquePrefix(t), time.Minute)
			if _, err := p.Connect(ctx, "u", "c1"); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Disconnect(ctx, "u", "c1", time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := p.Heartbeat(ctx, "u", "c1"); err != nil {
				t.Fatalf("heartbeat: %v", err)
			}
			if st := mustStatus(t, p, "u"); st.Status != "offline" {
				t.Errorf("status: got %q, want offline", st.Status)
			}
		})
	}
}

// TestPresenceExpiresInRealTime runs expiry on the real clock with a short
// TTL, and checks that real Redis drops the user's key by itself.
func TestPresenceExpiresInRealTime(t *testing.T) {
	be := realRedis(t)
	ctx := testContext(t)
	prefix := uniquePrefix(t)
	const ttl = time.Second
	client := be.open(t)
	p := newPresence(t, client, prefix, ttl)
	if _, err := p.Connect(ctx, "u", "c1"); err != nil {
		t.Fatal(err)
	}
	if got := mustOnline(t, p, "u"); !got["u"] {
		t.Fatalf("after connect: got %v, want online", got)
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if got := mustOnline(t, p, "u"); got["u"] {
		t.Errorf("after ttl: got %v, want offline", got)
	}
	key := prefix + "presence:{u}:conns"
	deadline := time.Now().Add(3 * ttl)
	for client.Exists(ctx, key).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatalf("key %s still there %s after the last heartbeat", key, 3*ttl+ttl)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPresenceOnlineBatch(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			p := newPresence(t, be.open(t), uniquePrefix(t), time.Minute)
			for _, u := range []string{"u1", "u3"} {
				if _, err := p.Connect(ctx, u, "c-"+u); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Connect(ctx, "u4", "c-u4"); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Disconnect(ctx, "u4", "c-u4", time.Now()); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				ids  []string
				want map[string]bool
			}{
				{"none", nil, map[string]bool{}},
				{"mixed", []string{"u1", "u2", "u3", "u4"}, map[string]bool{"u1": true, "u2": false, "u3": true, "u4": false}},
				{"duplicates", []string{"u1", "u1", "u2"}, map[string]bool{"u1": true, "u2": false}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					got := mustOnline(t, p, tc.ids...)
					if fmt.Sprint(got) != fmt.Sprint(tc.want) {
						t.Errorf("got %v, want %v", got, tc.want)
					}
				})
			}
		})
	}
}

func BenchmarkPresenceConnectDisconnect(b *testing.B) {
	be := realRedis(b)
	p := newPresence(b, be.open(b), uniquePrefix(b), time.Minute)
	ctx := testContext(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		u, c := fmt.Sprint("u", i%1000), fmt.Sprint("c", i)
		if _, err := p.Connect(ctx, u, c); err != nil {
			b.Fatal(err)
		}
		if _, err := p.Disconnect(ctx, u, c, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPresenceOnline100(b *testing.B) {
	be := realRedis(b)
	p := newPresence(b, be.open(b), uniquePrefix(b), time.Minute)
	ctx := testContext(b)
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprint("u", i)
		if i%2 == 0 {
			if _, err := p.Connect(ctx, ids[i], "c"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Online(ctx, ids); err != nil {
			b.Fatal(err)
		}
	}
}
