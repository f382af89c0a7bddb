package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/storetest"
	"github.com/parley-chat/parley/internal/testenv"
)

// mustOpen opens a migrated, fresh database that is dropped when tb ends.
// testenv fails (never skips) when Postgres is not running.
func mustOpen(tb testing.TB) *postgres.DB {
	tb.Helper()
	db, err := postgres.Open(context.Background(), testenv.Postgres(tb))
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() }) // runs before testenv drops the database
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// TestStore gives each contract test an empty schema of one database:
// creating a database per test costs about a second on this machine.
func TestStore(t *testing.T) {
	base := testenv.Postgres(t)
	admin, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	n := 0
	storetest.Run(t, func(t *testing.T) chatcore.Store {
		n++
		schema := fmt.Sprintf("contract_%d", n)
		if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("parse %s: %v", base, err)
		}
		q := u.Query()
		q.Set("search_path", schema) // pgx passes unknown keys as runtime parameters
		u.RawQuery = q.Encode()
		db, err := postgres.Open(t.Context(), u.String())
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return db
	})
}

// TestMigrateConcurrent migrates one new database from four pools at once,
// as nodes starting together do: the advisory lock serialises them.
func TestMigrateConcurrent(t *testing.T) {
	dsn := testenv.Postgres(t)
	storetest.MigrateConcurrently(t, 4, func(t *testing.T) storetest.Migrator {
		db, err := postgres.Open(t.Context(), dsn)
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
		url  string
	}{
		{"malformed url", "postgres://%zz"},
		{"nobody listening", "postgres://postgres@127.0.0.1:1/parley?sslmode=disable"},
		{"no such database", "postgres://postgres@127.0.0.1:5432/parley_no_such_db?sslmode=disable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			db, err := postgres.Open(t.Context(), tc.url)
			if err == nil {
				db.Close()
				t.Fatalf("open %q: got no error, want one", tc.url)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("open %q took %v, want a fast failure", tc.url, d)
			}
		})
	}
}

func BenchmarkAppendMessage(b *testing.B) {
	storetest.BenchmarkAppendMessage(b, func(tb testing.TB) chatcore.Store { return mustOpen(tb) })
}
