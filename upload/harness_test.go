package upload_test

import (
	"context"
	"errors"
	"github.com/parley-chat/parley/chatcore/inmem"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/internal/testenv"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/local"
	"github.com/parley-chat/parley/upload/s3"
)

// countingEnqueuer records what was enqueued. Like the workers' asynq
// enqueuer it is idempotent by attachment id: a repeat adds no second task.
// While down is set it fails, as when Redis is unreachable.
type countingEnqueuer struct {
	mu   sync.Mutex
	ids  []string
	down bool
}

func (e *countingEnqueuer) EnqueueAttachment(ctx context.Context, a *chatcore.Attachment) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return errors.New("queue unreachable")
	}
	for _, id := range e.ids {
		if id == a.ID {
			return nil
		}
	}
	e.ids = append(e.ids, a.ID)
	return nil
}

func (e *countingEnqueuer) setDown(down bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = down
}

func (e *countingEnqueuer) count(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, got := range e.ids {
		if got == id {
			n++
		}
	}
	return n
}

// harness is a Service on a temp SQLite database and an object store, with
// three users: alice and bob share a group, carol is in none.
type harness struct {
	svc     *upload.Service
	db      chatcore.Store
	objects upload.ObjectStore
	http    *http.Client
	clock   *inmem.Clock
	enq     *countingEnqueuer
	conv    string
}

const (
	alice = "u-alice"
	bob   = "u-bob"
	carol = "u-carol"
)

// backends are the database and object store pairs the service tests run
// on: "local" (SQLite and the local store, as in parley dev), "s3" (SQLite
// and versitygw) and "postgres" (Postgres and versitygw, as in production).
var backends = []string{"local", "s3", "postgres"}

func openDB(t *testing.T, backend string) chatcore.Store {
	t.Helper()
	ctx := t.Context()
	var db interface {
		chatcore.Store
		Migrate(context.Context) error
	}
	var err error
	if backend == "postgres" {
		db, err = postgres.Open(ctx, testenv.Postgres(t))
	} else {
		db, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"))
	}
	if err != nil {
		t.Fatalf("open %s database: %v", backend, err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func newHarness(t *testing.T, backend string, tweak func(*upload.Config)) *harness {
	t.Helper()
	ctx := t.Context()
	db := openDB(t, backend)
	// The real time, so that S3's own expiry and ours agree.
	clock := inmem.NewClock(time.Now())
	h := &harness{db: db, clock: clock, enq: &countingEnqueuer{}, conv: "c-ab", http: http.DefaultClient}
	for _, id := range []string{alice, bob, carol} {
		if err := db.CreateUser(ctx, &chatcore.User{ID: id, Username: id, DisplayName: id, CreatedAt: clock.Now()}, "x"); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	conv := &chatcore.Conversation{ID: h.conv, Kind: chatcore.KindGroup, Title: "ab", CreatedBy: alice, CreatedAt: clock.Now()}
	if err := db.CreateConversation(ctx, conv, []string{alice, bob}); err != nil {
		t.Fatalf("CreateConversation: %v", err)
	}

	switch backend {
	case "local":
		mux := http.NewServeMux()
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		st, err := local.New(local.Config{Dir: t.TempDir(), BaseURL: srv.URL, Secret: []byte("a test secret of some length"), Clock: clock})
		if err != nil {
			t.Fatalf("local.New: %v", err)
		}
		mux.Handle(local.PathPrefix, st.Handler())
		h.objects, h.http = st, srv.Client()
	case "s3", "postgres":
		srv := testenv.S3(t)
		st, err := s3.New(s3.Config{Endpoint: srv.Endpoint, Bucket: "parley", AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: srv.Region})
		if err != nil {
			t.Fatalf("s3.New: %v", err)
		}
		h.objects = st
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	if err := h.objects.EnsureBucket(ctx); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	cfg := upload.Config{Store: db, Objects: h.objects, Enqueuer: h.enq, Clock: clock}
	if tweak != nil {
		tweak(&cfg)
	}
	svc, err := upload.NewService(cfg)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	h.svc = svc
	return h
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := chatcore.ErrorCode(err); got != code {
		t.Fatalf("%s: got code %q (%v), want %q", what, got, err, code)
	}
}
