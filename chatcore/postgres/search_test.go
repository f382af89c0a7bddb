package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/storetest"
	"github.com/parley-chat/parley/internal/testenv"
)

// pgxRaw is storetest.Raw on one pgx connection.
type pgxRaw struct{ conn *pgx.Conn }

func (r pgxRaw) Exec(ctx context.Context, query string, args ...any) error {
	_, err := r.conn.Exec(ctx, query, args...)
	return err
}

// mustOpenRaw opens a migrated, fresh database and a raw connection to it.
func mustOpenRaw(tb testing.TB) (*postgres.DB, storetest.Raw) {
	tb.Helper()
	dsn := testenv.Postgres(tb)
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return db, pgxRaw{conn}
}

func TestSearch(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) (chatcore.Store, storetest.Raw) { return mustOpenRaw(t) })
}

// BenchmarkSearch: PARLEY_SEARCH_BENCH_MESSAGES=1000000 go test -run '^$' -bench Search -benchtime 200x ./chatcore/postgres/
func BenchmarkSearch(b *testing.B) {
	storetest.BenchmarkSearch(b, func(tb testing.TB) (chatcore.Store, storetest.Raw) { return mustOpenRaw(tb) },
		func(t time.Time) any { return t.UTC() }, "VACUUM ANALYZE messages")
}
