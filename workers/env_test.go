package workers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	pg "github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/upload/s3"
	"github.com/parley-chat/parley/workers"
)

// recBus is a chatcore.Bus that records what workers publish.
type recBus struct {
	mu     sync.Mutex
	events []chatcore.Event
	signal chan struct{}
}

func newRecBus() *recBus { return &recBus{signal: make(chan struct{}, 1)} }

func (b *recBus) Publish(_ context.Context, ev chatcore.Event) error {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
	return nil
}

func (b *recBus) Subscribe(context.Context, func(chatcore.Event)) error { return nil }

// waitAttachment waits for an attachment frame about id in status want and
// returns its event and frame.
func (b *recBus) waitAttachment(tb testing.TB, id string, want chatcore.AttachmentStatus, timeout time.Duration) (chatcore.Event, chatcore.AttachmentFrame) {
	tb.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		b.mu.Lock()
		evs := slices.Clone(b.events[seen:])
		b.mu.Unlock()
		for _, ev := range evs {
			seen++
			var f chatcore.AttachmentFrame
			if err := json.Unmarshal(ev.Frame, &f); err != nil {
				tb.Fatalf("frame %s: %v", ev.Frame, err)
			}
			if f.Type == chatcore.FrameAttachment && f.Attachment != nil && f.Attachment.ID == id && f.Attachment.Status == want {
				return ev, f
			}
		}
		select {
		case <-b.signal:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			b.mu.Lock()
			defer b.mu.Unlock()
			var got []string
			for _, ev := range b.events {
				got = append(got, string(ev.Frame))
			}
			tb.Fatalf("no %s attachment frame for %s within %v; got %q", want, id, timeout, got)
		}
	}
}

// storeDB is what both SQL adapters offer.
type storeDB interface {
	chatcore.Store
	Migrate(ctx context.Context) error
}

// env is one test's slice of the real services: a SQLite store with two
// members of a group and one outsider, versitygw, a private Redis database.
type env struct {
	ctx     context.Context
	store   storeDB
	s3      *testenv.S3Server
	objects *s3.Store
	redis   asynq.RedisConnOpt
	rdb     *goredis.Client
	bus     *recBus
	clock   *fakeClock

	alice, bob, carol string
	conv              string
}

func newEnv(t testing.TB) *env { return newEnvWith(t, false) }

// newEnvWith is newEnv on Postgres (a fresh database) when postgres is set.
func newEnvWith(t testing.TB, postgres bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{ctx: ctx, bus: newRecBus(), clock: &fakeClock{now: time.Now()}}

	u := testenv.Redis(t)
	opt, err := asynq.ParseRedisURI(u)
	if err != nil {
		t.Fatalf("parse %s: %v", u, err)
	}
	e.redis = opt
	gopt, err := goredis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	e.rdb = goredis.NewClient(gopt)
	t.Cleanup(func() { e.rdb.Close() })

	var db storeDB
	if postgres {
		db, err = pg.Open(ctx, testenv.Postgres(t))
	} else {
		db, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	e.store = db

	e.s3 = testenv.S3(t)
	e.objects, err = s3.New(s3.Config{
		Endpoint: e.s3.Endpoint, Bucket: "parley", AccessKey: e.s3.AccessKey,
		SecretKey: e.s3.SecretKey, Region: e.s3.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.objects.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC()
	for _, p := range []*string{&e.alice, &e.bob, &e.carol} {
		*p = newID()
		usr := &chatcore.User{ID: *p, Username: "u" + (*p)[:12], DisplayName: "U", Role: chatcore.RoleUser, CreatedAt: now}
		if err := db.CreateUser(ctx, usr, "x"); err != nil {
			t.Fatal(err)
		}
	}
	e.conv = newID()
	c := &chatcore.Conversation{ID: e.conv, Kind: chatcore.KindGroup, Title: "t", CreatedBy: e.alice, CreatedAt: now}
	if err := db.CreateConversation(ctx, c, []string{e.alice, e.bob}); err != nil {
		t.Fatal(err)
	}
	return e
}

// attach stores data as alice's upload of kind, marks it processing and
// sends it in a message to the group, as a completed upload would be.
func (e *env) attach(t testing.TB, kind chatcore.AttachmentKind, contentType string, data []byte) *chatcore.Attachment {
	t.Helper()
	id := newID()
	key := "uploads/" + e.alice + "/" + id + "/original"
	if err := e.objects.Put(e.ctx, key, bytes.NewReader(data), int64(len(data)), contentType); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now().UTC()
	a := &chatcore.Attachment{
		ID: id, UploaderID: e.alice, Kind: kind, Status: chatcore.StatusProcessing,
		ContentType: contentType, Size: int64(len(data)), Filename: "f", ObjectKey: key,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
	if err := e.store.CreateAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	m := &chatcore.Message{ID: newID(), ConversationID: e.conv, ClientID: newID(), SenderID: e.alice, Body: "look", CreatedAt: now}
	if _, _, err := e.store.AppendMessage(e.ctx, m, []string{id}); err != nil {
		t.Fatal(err)
	}
	return a
}

// config is a worker config for e with test-friendly retry timing.
func (e *env) config() workers.Config {
	return workers.Config{
		Store: e.store, Objects: e.objects, Bus: e.bus, Redis: e.redis,
		Concurrency: 2, RetryBase: 100 * time.Millisecond, RetryMax: 500 * time.Millisecond,
		PollInterval: 20 * time.Millisecond, ShutdownTimeout: 5 * time.Second,
		Logger: testLogger(),
	}
}

// testLogger discards logs unless PARLEY_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs a worker Server until the test ends.
func (e *env) start(t testing.TB, cfg workers.Config) *workers.Server {
	t.Helper()
	srv, err := workers.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// enqueuer returns an Enqueuer closed with the test.
func (e *env) enqueuer(t testing.TB, opts workers.EnqueueOptions) *workers.Enqueuer {
	t.Helper()
	enq := workers.NewEnqueuer(e.redis, opts)
	t.Cleanup(func() { enq.Close() })
	return enq
}

func (e *env) inspector(t *testing.T) *asynq.Inspector {
	t.Helper()
	i := asynq.NewInspector(e.redis)
	t.Cleanup(func() { i.Close() })
	return i
}

// waitTask polls until the task with id in queue satisfies ok.
func waitTask(t *testing.T, i *asynq.Inspector, queue, id string, timeout time.Duration, ok func(*asynq.TaskInfo) bool) *asynq.TaskInfo {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last *asynq.TaskInfo
	var lastErr error
	for time.Now().Before(deadline) {
		last, lastErr = i.GetTaskInfo(queue, id)
		if lastErr == nil && ok(last) {
			return last
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("task %s/%s: condition not met within %v (last %+v, err %v)", queue, id, timeout, last, lastErr)
	return nil
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testJPEG encodes a w×h gradient as a JPEG.
func testJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(255 * x / w), uint8(255 * y / h), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
