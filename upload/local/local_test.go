package local_test

import (
	"github.com/parley-chat/parley/chatcore/inmem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/local"
	"github.com/parley-chat/parley/upload/storetest"
)

// newStore starts a server for a store under a temp dir.
func newStore(t *testing.T) (*local.Store, *inmem.Clock, *httptest.Server) {
	t.Helper()
	clock := inmem.NewClock(time.Now())
	var store *local.Store
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	store, err := local.New(local.Config{
		Dir:     t.TempDir(),
		BaseURL: srv.URL,
		Secret:  []byte("0123456789abcdef-test-secret"),
		Clock:   clock,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux.Handle(local.PathPrefix, store.Handler())
	if err := store.EnsureBucket(t.Context()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return store, clock, srv
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (upload.ObjectStore, storetest.Client) {
		store, clock, srv := newStore(t)
		return store, storetest.Client{HTTP: srv.Client(), Advance: clock.Advance}
	})
}

// TestWithoutEnsureBucket: a store whose directories were never created
// still accepts uploads (parley dev may skip EnsureBucket).
func TestWithoutEnsureBucket(t *testing.T) {
	store, err := local.New(local.Config{Dir: t.TempDir() + "/blobs", BaseURL: "http://x", Secret: make([]byte, 16)})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(t.Context(), "a/b", strings.NewReader("hi"), 2, "text/plain"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if info, err := store.Stat(t.Context(), "a/b"); err != nil || info.Size != 2 {
		t.Fatalf("Stat: got %+v, %v", info, err)
	}
}
