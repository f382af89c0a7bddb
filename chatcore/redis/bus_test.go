package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/redis"
)

// collector receives events on a channel so tests can wait for them.
type collector chan chatcore.Event

func (c collector) fn(ev chatcore.Event) { c <- ev }

func (c collector) next(tb testing.TB) chatcore.Event {
	tb.Helper()
	select {
	case ev := <-c:
		return ev
	case <-time.After(5 * time.Second):
		tb.Fatalf("no event within 5s")
		return chatcore.Event{}
	}
}

func (c collector) none(tb testing.TB, wait time.Duration) {
	tb.Helper()
	select {
	case ev := <-c:
		tb.Fatalf("got event %s, want none", ev.Frame)
	case <-time.After(wait):
	}
}

func newBus(tb testing.TB, client goredis.UniversalClient, opts redis.BusOptions) *redis.Bus {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	b := redis.NewBus(client, opts)
	tb.Cleanup(func() { b.Close() })
	return b
}

func event(text string, recipients ...string) chatcore.Event {
	return chatcore.Event{
		Recipients: recipients,
		Frame:      chatcore.EncodeFrame(chatcore.TypingFrame{Type: chatcore.FrameTyping, UserID: text, State: "start"}),
	}
}

func TestBusTwoNodes(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			nodeA := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})
			nodeB := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})
			if got, want := nodeA.Channel(), prefix+"events"; got != want {
				t.Errorf("channel: got %q, want %q", got, want)
			}
			gotA, gotB := make(collector, 16), make(collector, 16)
			if err := nodeA.Subscribe(ctx, gotA.fn); err != nil {
				t.Fatalf("subscribe a: %v", err)
			}
			if err := nodeB.Subscribe(ctx, gotB.fn); err != nil {
				t.Fatalf("subscribe b: %v", err)
			}

			tests := []struct {
				name string
				from *redis.Bus
				ev   chatcore.Event
			}{
				{"a to all", nodeA, event("from-a", "u1", "u2")},
				{"b to all", nodeB, event("from-b", "u3")},
				{"preset publish time kept", nodeA, chatcore.Event{Recipients: []string{"u4"}, Frame: json.RawMessage(`{"type":"pong"}`), PublishedAt: 42}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					before := time.Now().UnixNano()
					// No sleep: Subscribe returned after Redis confirmed it.
					if err := tc.from.Publish(ctx, tc.ev); err != nil {
						t.Fatalf("publish: %v", err)
					}
					for node, c := range map[string]collector{"a": gotA, "b": gotB} {
						got := c.next(t)
						if string(got.Frame) != string(tc.ev.Frame) {
							t.Errorf("node %s frame: got %s, want %s", node, got.Frame, tc.ev.Frame)
						}
						if strings.Join(got.Recipients, ",") != strings.Join(tc.ev.Recipients, ",") {
							t.Errorf("node %s recipients: got %v, want %v", node, got.Recipients, tc.ev.Recipients)
						}
						switch {
						case tc.ev.PublishedAt != 0 && got.PublishedAt != tc.ev.PublishedAt:
							t.Errorf("node %s published_at: got %d, want %d", node, got.PublishedAt, tc.ev.PublishedAt)
						case tc.ev.PublishedAt == 0 && got.PublishedAt < before:
							t.Errorf("node %s published_at: got %d, want >= %d", node, got.PublishedAt, before)
						}
					}
				})
			}
			if st := nodeA.Stats(); st.Published != 2 || st.Received != 3 {
				t.Errorf("node a stats: got %+v, want published 2, received 3", st)
			}
		})
	}
}

func TestBusResubscribesAfterConnectionLoss(t *testing.T) {
	tests := []struct {
		name string
		be   func(t *testing.T) *backend
		// cut breaks the subscriber's connection.
		cut func(t *testing.T, be *backend, subscriberName string)
	}{
		{"miniredis restart", func(t *testing.T) *backend { return miniRedis(t) },
			func(t *testing.T, be *backend, _ string) {
				be.mini.Close()
				if err := be.mini.Restart(); err != nil {
					t.Fatalf("restart miniredis: %v", err)
				}
			}},
		{"redis client kill", func(t *testing.T) *backend { return realRedis(t) },
			func(t *testing.T, be *backend, name string) {
				// Kill only our own subscriber: other tests share the server.
				admin := be.open(t)
				ctx := context.Background()
				list, err := admin.ClientList(ctx).Result()
				if err != nil {
					t.Fatalf("client list: %v", err)
				}
				killed := 0
				for _, line := range strings.Split(list, "\n") {
					if !strings.Contains(line, " name="+name+" ") {
						continue
					}
					id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
					if err := admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
						t.Fatalf("client kill %s: %v", id, err)
					}
					killed++
				}
				if killed == 0 {
					t.Fatalf("no client named %s in CLIENT LIST", name)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t)
			be := tc.be(t)
			prefix := uniquePrefix(t)
			name := "sub" + strings.ReplaceAll(strings.Trim(prefix, ":"), ":", "-")
			subClient := goredis.NewClient(clientOptions(t, be, name))
			t.Cleanup(func() { subClient.Close() })
			resubscribed := make(chan time.Duration, 1)
			sub := newBus(t, subClient, redis.BusOptions{Prefix: prefix, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
				OnResubscribe: func(d time.Duration) { resubscribed <- d }})
			pub := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})
			got := make(collector, 16)
			if err := sub.Subscribe(ctx, got.fn); err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			if err := pub.Publish(ctx, event("before")); err != nil {
				t.Fatalf("publish: %v", err)
			}
			got.next(t)

			tc.cut(t, be, name)
			deadline := time.Now().Add(10 * time.Second)
			for sub.Stats().Reconnects == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no resubscribe within 10s; stats %+v", sub.Stats())
				}
				time.Sleep(10 * time.Millisecond)
			}
			select {
			case d := <-resubscribed:
				if d <= 0 {
					t.Errorf("OnResubscribe downtime: got %v, want > 0", d)
				}
			default:
				t.Errorf("OnResubscribe was not called")
			}
			want := event("after")
			if err := pub.Publish(ctx, want); err != nil {
				t.Fatalf("publish after reconnect: %v", err)
			}
			if ev := got.next(t); string(ev.Frame) != string(want.Frame) {
				t.Errorf("got %s, want %s", ev.Frame, want.Frame)
			}
		})
	}
}

// clientOptions returns options for a client of be that names its
// connections, so a test can find them in CLIENT LIST.
func clientOptions(t *testing.T, be *backend, name string) *goredis.Options {
	t.Helper()
	o := be.options()
	o.ClientName = name
	return o
}

func TestBusSlowSubscriberDropsInsteadOfBlocking(t *testing.T) {
	ctx := testContext(t)
	be := miniRedis(t)
	prefix := uniquePrefix(t)
	slow := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix, BufferSize: 4})
	fast := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})
	release := make(chan struct{})
	if err := slow.Subscribe(ctx, func(chatcore.Event) { <-release }); err != nil {
		t.Fatalf("subscribe slow: %v", err)
	}
	got := make(collector, 100)
	if err := fast.Subscribe(ctx, got.fn); err != nil {
		t.Fatalf("subscribe fast: %v", err)
	}
	const n = 50
	for i := range n {
		if err := fast.Publish(ctx, event(fmt.Sprint(i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	for range n {
		got.next(t)
	}
	// 1 in fn + 4 buffered at most; everything else must be dropped, and
	// the reader may still be catching up.
	deadline := time.Now().Add(5 * time.Second)
	for slow.Stats().Dropped < n-5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if st := slow.Stats(); st.Dropped != n-5 {
		t.Errorf("dropped: got %d, want %d", st.Dropped, n-5)
	}
}

func TestBusSkipsMalformedAndPanics(t *testing.T) {
	ctx := testContext(t)
	be := miniRedis(t)
	prefix := uniquePrefix(t)
	client := be.open(t)
	bus := newBus(t, client, redis.BusOptions{Prefix: prefix})
	got := make(collector, 4)
	if err := bus.Subscribe(ctx, func(ev chatcore.Event) {
		if len(ev.Recipients) == 1 && ev.Recipients[0] == "boom" {
			panic("boom")
		}
		got <- ev
	}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := client.Publish(ctx, bus.Channel(), "not json").Err(); err != nil {
		t.Fatalf("publish junk: %v", err)
	}
	if err := bus.Publish(ctx, event("panics", "boom")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	want := event("fine", "u1")
	if err := bus.Publish(ctx, want); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if ev := got.next(t); string(ev.Frame) != string(want.Frame) {
		t.Errorf("got %s, want %s", ev.Frame, want.Frame)
	}
	if st := bus.Stats(); st.Malformed != 1 {
		t.Errorf("malformed: got %d, want 1", st.Malformed)
	}
}

func TestBusStopsOnContextAndClose(t *testing.T) {
	ctx := testContext(t)
	be := miniRedis(t)
	prefix := uniquePrefix(t)
	bus := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})
	pub := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})

	subCtx, cancel := context.WithCancel(ctx)
	cancelled, open := make(collector, 4), make(collector, 4)
	if err := bus.Subscribe(subCtx, cancelled.fn); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := bus.Subscribe(ctx, open.fn); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	cancel()
	// The cancelled subscription unsubscribes asynchronously: wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for be.mini.PubSubNumSub(bus.Channel())[bus.Channel()] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("cancelled subscription still subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := pub.Publish(ctx, event("x")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	open.next(t)
	cancelled.none(t, 50*time.Millisecond)

	if err := bus.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := bus.Publish(ctx, event("y")); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("publish after close: got %v, want ErrClosed", err)
	}
	if err := bus.Subscribe(ctx, open.fn); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("subscribe after close: got %v, want ErrClosed", err)
	}
	if err := pub.Publish(ctx, event("z")); err != nil {
		t.Fatalf("publish: %v", err)
	}
	open.none(t, 50*time.Millisecond)
}

func TestBusSubscribeFailsWhenRedisIsDown(t *testing.T) {
	ctx := testContext(t)
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { client.Close() })
	bus := newBus(t, client, redis.BusOptions{SubscribeTimeout: 500 * time.Millisecond})
	if err := bus.Subscribe(ctx, func(chatcore.Event) {}); err == nil {
		t.Fatalf("subscribe: got nil error, want one")
	}
	if err := bus.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestBusHealthCheckKeepsQuietSubscription(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			// Long enough that a loaded machine answers a ping within it.
			bus := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix, HealthCheckInterval: 250 * time.Millisecond})
			got := make(collector, 4)
			if err := bus.Subscribe(ctx, got.fn); err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			// Several quiet intervals: each one pings, and Redis answers.
			time.Sleep(1200 * time.Millisecond)
			if err := bus.Publish(ctx, event("late")); err != nil {
				t.Fatalf("publish: %v", err)
			}
			got.next(t)
			if st := bus.Stats(); st.Reconnects != 0 {
				t.Errorf("reconnects: got %d, want 0", st.Reconnects)
			}
		})
	}
}

// slowRedis delays every round trip by d, as a distant or busy Redis would.
type slowRedis struct{ d time.Duration }

func (h slowRedis) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h slowRedis) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		time.Sleep(h.d)
		return next(ctx, cmd)
	}
}
func (h slowRedis) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		time.Sleep(h.d)
		return next(ctx, cmds)
	}
}

// TestBusCoalescesConcurrentPublishes: publishes from many goroutines at
// once share a few round trips, and every event still reaches every
// subscriber exactly once.
func TestBusCoalescesConcurrentPublishes(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := testContext(t)
			prefix := uniquePrefix(t)
			pubClient := be.open(t)
			pubClient.AddHook(slowRedis{20 * time.Millisecond})
			pub := newBus(t, pubClient, redis.BusOptions{Prefix: prefix})
			sub := newBus(t, be.open(t), redis.BusOptions{Prefix: prefix})
			const n = 100
			got := make(collector, n)
			if err := sub.Subscribe(ctx, got.fn); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					<-start
					if err := pub.Publish(ctx, event(fmt.Sprintf("e%d", i), "u")); err != nil {
						errs <- err
					}
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("publish: %v", err)
			}
			seen := map[string]bool{}
			for range n {
				var f chatcore.TypingFrame
				if err := json.Unmarshal(got.next(t).Frame, &f); err != nil {
					t.Fatal(err)
				}
				if seen[f.UserID] {
					t.Fatalf("event %s delivered twice", f.UserID)
				}
				seen[f.UserID] = true
			}
			got.none(t, 50*time.Millisecond)
			st := pub.Stats()
			if st.Published != n || st.Pipelines > n/5 {
				t.Fatalf("stats: got %+v, want %d published in a few pipelines", st, n)
			}
			t.Logf("%d publishes in %d round trips", st.Published, st.Pipelines)
		})
	}
}
