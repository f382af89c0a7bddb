package chatcore_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/inmem"
	"github.com/parley-chat/parley/chatcore/sqlite"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fakeNotifier records notifications.
type fakeNotifier struct {
	ch chan chatcore.Notification
}

func (n *fakeNotifier) Notify(_ context.Context, x chatcore.Notification) error {
	n.ch <- x
	return nil
}

// harness is a Service on a temporary SQLite file with an in-memory bus
// and presence, running until the test ends.
type harness struct {
	svc      *chatcore.Services
	store    chatcore.Store
	bus      chatcore.Bus
	presence *inmem.Presence
	notifier *fakeNotifier
	clock    *inmem.Clock
	stored   *counter
	slow     *counter
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) inc() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

type harnessOpt func(*chatcore.ServiceConfig)

func withTypingTTL(d time.Duration) harnessOpt {
	return func(c *chatcore.ServiceConfig) { c.TypingTTL = d }
}

// MustOpenStore returns a migrated SQLite store in a temporary directory.
func MustOpenStore(tb testing.TB) chatcore.Store {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "parley.db"))
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	return newHarnessOn(t, MustOpenStore(t), inmem.NewBus(), opts...)
}

// newHarnessOn is newHarness on a given store and bus.
func newHarnessOn(t *testing.T, store chatcore.Store, bus chatcore.Bus, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{
		store:    store,
		bus:      bus,
		presence: inmem.NewPresence(),
		notifier: &fakeNotifier{ch: make(chan chatcore.Notification, 100)},
		clock:    inmem.NewClock(time.Now().UTC().Truncate(time.Second)),
		stored:   &counter{},
		slow:     &counter{},
	}
	h.svc = MustStartService(t, h.store, h.bus, h.presence, h.notifier, h.clock, h.stored, h.slow, opts...)
	return h
}

// MustStartService builds a Service, runs it until t ends, and waits for
// its hub to be subscribed to the bus.
func MustStartService(t *testing.T, store chatcore.Store, bus chatcore.Bus, presence chatcore.Presence,
	notifier chatcore.Notifier, clock chatcore.Clock, stored, slow *counter, opts ...harnessOpt) *chatcore.Services {
	t.Helper()
	cfg := chatcore.ServiceConfig{
		Store: store, Bus: bus, Presence: presence, Notifier: notifier, Clock: clock,
		JWTSecret: testSecret,
		Logger:    slog.New(slog.NewTextHandler(t.Output(), nil)),
		Hooks: chatcore.Hooks{
			MessageStored: stored.inc,
			SlowConsumer:  slow.inc,
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := chatcore.NewServices(cfg)
	if err != nil {
		t.Fatalf("NewServices: %v", err)
	}
	chatcore.CheapPasswordsForTest(svc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		svc.Close()
	})
	// Run subscribes asynchronously: probe until an event comes back.
	probe := newClient("probe-user", 16)
	unreg := svc.Hub.Register(probe)
	defer unreg()
	deadline := time.Now().Add(10 * time.Second)
	for {
		svc.Hub.Publish(ctx, chatcore.Event{Recipients: []string{"probe-user"}, Frame: []byte(`{"type":"probe"}`)})
		select {
		case <-probe.ch:
			return svc
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("service hub never received a bus event")
		}
	}
}

// client is a socket as the hub sees it, with its frames on a channel.
type client struct {
	user   string
	ch     chan []byte
	kicked chan struct{}
	once   sync.Once
}

func newClient(user string, buffer int) *client {
	return &client{user: user, ch: make(chan []byte, buffer), kicked: make(chan struct{})}
}

func (c *client) UserID() string { return c.user }
func (c *client) Kick()          { c.once.Do(func() { close(c.kicked) }) }
func (c *client) Enqueue(f []byte) bool {
	select {
	case c.ch <- f:
		return true
	default:
		return false
	}
}

// frame is any server frame, decoded loosely.
type frame struct {
	Type           string            `json:"type"`
	Message        *chatcore.Message `json:"message"`
	ConversationID string            `json:"conversation_id"`
	UserID         string            `json:"user_id"`
	State          string            `json:"state"`
	DeliveredSeq   int64             `json:"delivered_seq"`
	ReadSeq        int64             `json:"read_seq"`
	Status         string            `json:"status"`
	LastSeen       time.Time         `json:"last_seen"`
	Cursor         string            `json:"cursor"`
}

// connect registers a client for user on h's hub.
func (h *harness) connect(t *testing.T, user string) *client {
	t.Helper()
	c := newClient(user, 64)
	t.Cleanup(h.svc.Hub.Register(c))
	return c
}

// MustNextFrame returns c's next frame, failing after a few seconds.
func MustNextFrame(t *testing.T, c *client) frame {
	t.Helper()
	select {
	case b := <-c.ch:
		var f frame
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("decode frame %s: %v", b, err)
		}
		return f
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no frame within 5s", c.user)
		return frame{}
	}
}

// expectNoFrame fails if c receives a frame within d.
func expectNoFrame(t *testing.T, c *client, d time.Duration) {
	t.Helper()
	select {
	case b := <-c.ch:
		t.Fatalf("%s: got frame %s, want none", c.user, b)
	case <-time.After(d):
	}
}

// MustRegister registers a user and returns it with its tokens.
func (h *harness) MustRegister(t *testing.T, username string) *chatcore.AuthResult {
	t.Helper()
	res, err := h.svc.Auth.Register(context.Background(), username, "password-"+username, "")
	if err != nil {
		t.Fatalf("register %s: %v", username, err)
	}
	return res
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := chatcore.ErrorCode(err); got != code {
		t.Fatalf("got error code %q (%v), want %q", got, err, code)
	}
}
