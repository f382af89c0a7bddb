package chatcore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/internal/testenv"
)

// MustOpenPostgres returns a migrated store on a fresh database, dropped
// when tb ends.
func MustOpenPostgres(tb testing.TB) chatcore.Store {
	tb.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, testenv.Postgres(tb))
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate postgres: %v", err)
	}
	return db
}

// MustRedisBusPresence returns a real-Redis bus and presence with a key
// and channel prefix of their own.
func MustRedisBusPresence(tb testing.TB) (chatcore.Bus, chatcore.Presence) {
	tb.Helper()
	opt, err := goredis.ParseURL(testenv.Redis(tb))
	if err != nil {
		tb.Fatal(err)
	}
	var p [6]byte
	rand.Read(p[:])
	prefix := "parley-test-" + hex.EncodeToString(p[:]) + ":" // pub/sub ignores DB numbers
	c := goredis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	bus := redis.NewBus(c, redis.BusOptions{Prefix: prefix})
	tb.Cleanup(func() { bus.Close() })
	return bus, redis.NewPresence(c, redis.PresenceOptions{Prefix: prefix})
}

// BenchmarkServiceSend measures Send end to end on one node: validate,
// membership, append, publish on the bus, and hub dispatch to both
// members' sockets. Senders run in parallel (2 or 16 per core), each in
// its own direct conversation. msgs/s counts messages stored and delivered to
// every member; p50/p99 are Send call → the recipient's Enqueue.
//
//	go test -run '^$' -bench BenchmarkServiceSend -benchtime 3s ./chatcore/
func BenchmarkServiceSend(b *testing.B) {
	for _, par := range []int{2, 16} {
		b.Run(fmt.Sprintf("sqlite+inmem/senders=%d", par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			benchSend(b, par, MustOpenStore(b), inmem.NewBus(), inmem.NewPresence())
		})
		b.Run(fmt.Sprintf("postgres+redis/senders=%d", par*runtime.GOMAXPROCS(0)), func(b *testing.B) {
			bus, pres := MustRedisBusPresence(b)
			benchSend(b, par, MustOpenPostgres(b), bus, pres)
		})
	}
}

// latClient records when each frame arrives, by client_id.
type latClient struct {
	user string
	got  func()
}

func (c *latClient) UserID() string      { return c.user }
func (c *latClient) Enqueue([]byte) bool { c.got(); return true }
func (c *latClient) Kick()               {}

func benchSend(b *testing.B, parallelism int, store chatcore.Store, bus chatcore.Bus, pres chatcore.Presence) {
	ctx := context.Background()
	svc, err := chatcore.NewServices(chatcore.ServiceConfig{
		Store: store, Bus: bus, Presence: pres,
		Notifier: discardNotifier{}, JWTSecret: testSecret,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	chatcore.CheapPasswordsForTest(svc)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go svc.Run(runCtx)
	defer svc.Close()

	const pairs = 64
	type pair struct {
		sender, conv string
		mu           sync.Mutex
		sent         []time.Time // Send start, by seq-1
		lat          []time.Duration
	}
	ps := make([]*pair, pairs)
	var delivered atomic.Int64
	for i := range ps {
		a, err := svc.Auth.Register(ctx, fmt.Sprintf("sender%d", i), "password", "")
		if err != nil {
			b.Fatal(err)
		}
		r, err := svc.Auth.Register(ctx, fmt.Sprintf("recipient%d", i), "password", "")
		if err != nil {
			b.Fatal(err)
		}
		c, _, err := svc.Conversations.CreateConversation(ctx, a.User.ID, []string{r.User.ID}, "")
		if err != nil {
			b.Fatal(err)
		}
		p := &pair{sender: a.User.ID, conv: c.ID}
		ps[i] = p
		svc.Hub.Register(&latClient{user: a.User.ID, got: func() { delivered.Add(1) }})
		// The recipient's frames arrive in seq order (one publisher per
		// conversation, one subscription): the n-th frame is seq n.
		svc.Hub.Register(&latClient{user: r.User.ID, got: func() {
			now := time.Now()
			delivered.Add(1)
			p.mu.Lock()
			if n := len(p.lat); n < len(p.sent) {
				p.lat = append(p.lat, now.Sub(p.sent[n]))
			}
			p.mu.Unlock()
		}})
	}
	// Wait for Run's subscription: a probe event must come back.
	probe := newClient("probe", 1)
	unreg := svc.Hub.Register(probe)
	for got := false; !got; {
		svc.Hub.Publish(ctx, chatcore.Event{Recipients: []string{"probe"}, Frame: []byte(`{}`)})
		select {
		case <-probe.ch:
			got = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	unreg()

	var next, id atomic.Int64
	b.SetParallelism(parallelism)
	if parallelism*runtime.GOMAXPROCS(0) > pairs {
		b.Fatalf("more senders than conversations")
	}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		p := ps[int(next.Add(1)-1)%pairs]
		for pb.Next() {
			// One sender per pair (pairs ≥ senders): seq order is send
			// order, so the recipient's n-th frame answers the n-th send.
			p.mu.Lock()
			p.sent = append(p.sent, time.Now())
			p.mu.Unlock()
			_, _, err := svc.Messages.Send(ctx, p.sender, chatcore.SendRequest{
				ConversationID: p.conv, ClientID: fmt.Sprint(id.Add(1)), Body: "hello, benchmark",
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	want := int64(b.N) * 2
	for delivered.Load() < want {
		if time.Since(start) > time.Minute {
			b.Fatalf("delivered %d of %d frames", delivered.Load(), want)
		}
		time.Sleep(100 * time.Microsecond)
	}
	el := time.Since(start)
	b.StopTimer()
	var lat []time.Duration
	for _, p := range ps {
		lat = append(lat, p.lat...)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(b.N)/el.Seconds(), "msgs/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99_µs")
	}
}

type discardNotifier struct{}

func (discardNotifier) Notify(context.Context, chatcore.Notification) error { return nil }
