package chatcore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClient buffers up to cap frames and records whether it was kicked.
type testClient struct {
	user   string
	mu     sync.Mutex
	frames []string
	cap    int
	kicks  atomic.Int32
}

func newTestClient(user string, capacity int) *testClient {
	return &testClient{user: user, cap: capacity}
}

func (c *testClient) UserID() string { return c.user }

func (c *testClient) Enqueue(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.frames) >= c.cap {
		return false
	}
	c.frames = append(c.frames, string(frame))
	return true
}

func (c *testClient) Kick() { c.kicks.Add(1) }

func (c *testClient) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames)
}

func TestHubDispatch(t *testing.T) {
	h := NewHub(nil, Hooks{}, nil)
	alice1 := newTestClient("alice", 10)
	alice2 := newTestClient("alice", 10)
	bob := newTestClient("bob", 10)
	carol := newTestClient("carol", 10)
	for _, c := range []*testClient{alice1, alice2, bob, carol} {
		h.Register(c)
	}
	if got, want := h.LocalConnections(), 4; got != want {
		t.Fatalf("got %d connections, want %d", got, want)
	}
	h.Dispatch(Event{Recipients: []string{"alice", "bob", "nobody"}, Frame: []byte(`1`)})
	h.Dispatch(Event{Recipients: []string{"carol"}, Frame: []byte(`2`)})

	tests := []struct {
		name string
		c    *testClient
		want []string
	}{
		{"alice first socket", alice1, []string{"1"}},
		{"alice second socket", alice2, []string{"1"}},
		{"bob", bob, []string{"1"}},
		{"carol", carol, []string{"2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.got(); !slices.Equal(got, tc.want) {
				t.Errorf("got frames %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHubUnregister(t *testing.T) {
	h := NewHub(nil, Hooks{}, nil)
	a := newTestClient("alice", 10)
	b := newTestClient("alice", 10)
	unregA := h.Register(a)
	h.Register(b)
	unregA()
	unregA() // a second call is harmless
	if got, want := h.LocalConnections(), 1; got != want {
		t.Fatalf("got %d connections, want %d", got, want)
	}
	h.Dispatch(Event{Recipients: []string{"alice"}, Frame: []byte(`x`)})
	if got := a.got(); len(got) != 0 {
		t.Errorf("unregistered client got %q", got)
	}
	if got, want := b.got(), []string{"x"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestHubSlowConsumer(t *testing.T) {
	var slow atomic.Int32
	var latencies atomic.Int32
	h := NewHub(nil, Hooks{
		SlowConsumer:  func() { slow.Add(1) },
		FanoutLatency: func(time.Duration) { latencies.Add(1) },
	}, nil)
	stuck := newTestClient("bob", 1)
	fine := newTestClient("alice", 100)
	unreg := h.Register(stuck)
	h.Register(fine)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 5 {
			h.Dispatch(Event{Recipients: []string{"bob", "alice"}, Frame: fmt.Appendf(nil, "%d", i), PublishedAt: time.Now().UnixNano()})
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Dispatch blocked on a slow consumer")
	}
	if got, want := len(fine.got()), 5; got != want {
		t.Errorf("healthy client got %d frames, want %d", got, want)
	}
	if got, want := stuck.kicks.Load(), int32(1); got != want {
		t.Errorf("slow client kicked %d times, want %d", got, want)
	}
	if got, want := slow.Load(), int32(1); got != want {
		t.Errorf("SlowConsumer hook called %d times, want %d", got, want)
	}
	if got, want := latencies.Load(), int32(5); got != want {
		t.Errorf("FanoutLatency hook called %d times, want %d", got, want)
	}
	if got, want := h.LocalConnections(), 1; got != want {
		t.Errorf("got %d connections after the kick, want %d", got, want)
	}
	unreg() // the socket's own cleanup after the kick must not count twice
	if got, want := h.LocalConnections(), 1; got != want {
		t.Errorf("got %d connections after unregister, want %d", got, want)
	}
}

// chanBus is a Bus over one channel, enough to see Publish and Run meet.
type chanBus struct {
	mu   sync.Mutex
	subs []func(Event)
}

func (b *chanBus) Publish(_ context.Context, ev Event) error {
	b.mu.Lock()
	subs := slices.Clone(b.subs)
	b.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
	return nil
}

func (b *chanBus) Subscribe(_ context.Context, fn func(Event)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs = append(b.subs, fn)
	return nil
}

func TestHubPublishRun(t *testing.T) {
	bus := &chanBus{}
	var lat atomic.Int64
	h := NewHub(bus, Hooks{FanoutLatency: func(d time.Duration) { lat.Store(int64(d)) }}, nil)
	c := newTestClient("alice", 10)
	h.Register(c)

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- h.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		bus.mu.Lock()
		n := len(bus.subs)
		bus.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not subscribe")
		}
		time.Sleep(time.Millisecond)
	}
	if err := h.Publish(ctx, Event{Recipients: []string{"alice"}, Frame: []byte(`{"type":"pong"}`)}); err != nil {
		t.Fatal(err)
	}
	if got, want := c.got(), []string{`{"type":"pong"}`}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if lat.Load() <= 0 {
		t.Errorf("got fan-out latency %v, want > 0 (PublishedAt stamped)", time.Duration(lat.Load()))
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Errorf("got Run error %v, want nil after cancel", err)
	}
}

func TestHubConcurrent(t *testing.T) {
	h := NewHub(nil, Hooks{}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 200 {
				c := newTestClient(fmt.Sprintf("u%d", j%10), 1000)
				unreg := h.Register(c)
				unreg()
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				h.Dispatch(Event{Recipients: []string{"u1", "u2", fmt.Sprint(i)}, Frame: []byte(`x`)})
			}
		}()
	}
	wg.Wait()
	if got := h.LocalConnections(); got != 0 {
		t.Errorf("got %d connections, want 0", got)
	}
}

func TestHubKickAllClosesEverySocketOnce(t *testing.T) {
	h := NewHub(nil, Hooks{}, nil)
	var clients []*kickCounter
	for _, uid := range []string{"a", "a", "b", "c"} {
		c := &kickCounter{uid: uid}
		clients = append(clients, c)
		unregister := h.Register(c)
		defer unregister() // after KickAll: must not drive the count negative
	}
	if got := h.KickAll(); got != 4 {
		t.Fatalf("KickAll: got %d kicked, want 4", got)
	}
	for i, c := range clients {
		if c.kicks != 1 {
			t.Fatalf("client %d kicked %d times, want 1", i, c.kicks)
		}
	}
	if got := h.LocalConnections(); got != 0 {
		t.Fatalf("local connections after KickAll: got %d, want 0", got)
	}
	h.Dispatch(Event{Recipients: []string{"a", "b"}, Frame: []byte(`{}`)})
	for i, c := range clients {
		if c.frames != 0 {
			t.Fatalf("kicked client %d still got %d frames", i, c.frames)
		}
	}
}

type kickCounter struct {
	uid           string
	kicks, frames int
}

func (k *kickCounter) UserID() string        { return k.uid }
func (k *kickCounter) Enqueue(b []byte) bool { k.frames++; return true }
func (k *kickCounter) Kick()                 { k.kicks++ }

// downBus is a Bus whose Publish fails, as with Redis unreachable.
type downBus struct{ chanBus }

func (b *downBus) Publish(context.Context, Event) error {
	return fmt.Errorf("redis: connection refused")
}

// TestHubPublishLocalFirst: a publishing node's own sockets get an event
// once, without waiting for the bus (they get it even when the bus is
// down), and every other node's sockets get it once through the bus.
func TestHubPublishLocalFirst(t *testing.T) {
	bus := &chanBus{}
	a, b := NewHub(bus, Hooks{}, nil), NewHub(bus, Hooks{}, nil)
	ca, cb := newTestClient("alice", 10), newTestClient("alice", 10)
	a.Register(ca)
	b.Register(cb)
	// Subscribed as Run would, without its goroutines.
	bus.Subscribe(context.Background(), a.receive)
	bus.Subscribe(context.Background(), b.receive)
	for i, h := range []*Hub{a, b} {
		frame := fmt.Sprintf(`{"n":%d}`, i)
		if err := h.Publish(context.Background(), Event{Recipients: []string{"alice"}, Frame: []byte(frame)}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`{"n":0}`, `{"n":1}`}
	for name, c := range map[string]*testClient{"publishing node": ca, "other node": cb} {
		if got := c.got(); !slices.Equal(got, want) {
			t.Errorf("%s's socket: got %q, want %q (each event once)", name, got, want)
		}
	}

	down := &downBus{}
	h := NewHub(down, Hooks{}, nil)
	c := newTestClient("bob", 10)
	h.Register(c)
	if err := h.Publish(context.Background(), Event{Recipients: []string{"bob"}, Frame: []byte(`{"n":2}`)}); err == nil {
		t.Error("publish with the bus down: got no error, want the bus's")
	}
	if got := c.got(); !slices.Equal(got, []string{`{"n":2}`}) {
		t.Errorf("with the bus down, the node's own socket got %q, want the frame", got)
	}
}
