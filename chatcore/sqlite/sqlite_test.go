package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/chatcore/storetest"
)

// mustOpen opens a migrated database in a temporary directory.
func mustOpen(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "parley.db"))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) chatcore.Store { return mustOpen(t) })
}

func TestMigrateIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "parley.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate %d: %v", i, err)
		}
	}
	if err := db.Migrate(t.Context()); err != nil {
		t.Errorf("migrate again: %v", err)
	}
	storetest.MustUser(t, db, "alice")
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("ping: %v", err)
	}
}

func TestOpenFails(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"empty path", ""},
		{"directory as file", t.TempDir()},
		{"not a database", writeFile(t, "garbage.db", "this is not sqlite, just some text long enough to be a header of a file")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlite.Open(t.Context(), tc.path)
			if err == nil {
				db.Close()
				t.Fatalf("open %q: got no error, want one", tc.path)
			}
		})
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	storetest.BenchmarkAppendMessage(b, func(tb testing.TB) chatcore.Store { return mustOpen(tb) })
}
