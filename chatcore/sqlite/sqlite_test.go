package sqlite_test

import (
	"context"
	"path/filepath"
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

// TestMigrateConcurrent migrates one new file from three pools at once, as
// three processes sharing it would (SQLite has no advisory lock).
func TestMigrateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "dir", "parley.db")
	storetest.MigrateConcurrently(t, 3, func(t *testing.T) storetest.Migrator {
		db, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func TestOpenFails(t *testing.T) {
	tests := []struct {
		name string
		path string
	}{
		{"empty path", ""},
		{"in memory", ":memory:"},
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
