package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // registers "sqlite" for the raw connection

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/chatcore/storetest"
)

// connRaw is storetest.Raw on one database/sql connection.
type connRaw struct{ conn *sql.Conn }

func (r connRaw) Exec(ctx context.Context, query string, args ...any) error {
	_, err := r.conn.ExecContext(ctx, query, args...)
	return err
}

// mustOpenRaw opens a migrated database in a temporary directory and a raw
// connection to the same file.
func mustOpenRaw(tb testing.TB) (*sqlite.DB, storetest.Raw) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "parley.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	pool, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatalf("open raw: %v", err)
	}
	tb.Cleanup(func() { pool.Close() })
	conn, err := pool.Conn(context.Background())
	if err != nil {
		tb.Fatalf("raw conn: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	return db, connRaw{conn}
}

func TestSearch(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) (chatcore.Store, storetest.Raw) { return mustOpenRaw(t) })
}

// BenchmarkSearch: PARLEY_SEARCH_BENCH_MESSAGES=1000000 go test -run '^$' -bench Search -benchtime 200x ./chatcore/sqlite/
func BenchmarkSearch(b *testing.B) {
	storetest.BenchmarkSearch(b, func(tb testing.TB) (chatcore.Store, storetest.Raw) { return mustOpenRaw(tb) },
		func(t time.Time) any { return t.UnixMicro() }, "ANALYZE")
}
