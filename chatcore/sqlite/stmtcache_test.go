package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// cacheTestDB is a one-connection database with a table of n rows, opened
// with the statement cache.
func cacheTestDB(t testing.TB, open func(string) (*sql.DB, error), n int) *sql.DB {
	t.Helper()
	// WAL with synchronous NORMAL, as Open: commits do not wait for fsync.
	db, err := open(filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if _, err := db.Exec(`INSERT INTO kv (k, v) VALUES (?, ?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestStatementCacheNestedSameQuery: the same query text run again while
// the rows of its first run are still being read, on the same connection,
// gets its own results; both iterations see every row.
func TestStatementCacheNestedSameQuery(t *testing.T) {
	db := cacheTestDB(t, openCaching, 3)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT k, v FROM kv WHERE k >= ? ORDER BY k`
	outer, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var k int
		var v string
		if err := outer.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.QueryContext(ctx, q, k)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s:%d", v, n))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if want := "[v1:3 v2:2 v3:1]"; fmt.Sprint(got) != want {
		t.Fatalf("nested runs of one statement: got %v, want %s", got, want)
	}
	// The statement is free again: a third run reads from the start.
	var v string
	if err := tx.QueryRowContext(ctx, q, 2).Scan(new(int), &v); err != nil || v != "v2" {
		t.Fatalf("after the nested runs: got %q, %v; want v2", v, err)
	}
}

// TestStatementCacheEviction: more distinct statements than the cache
// holds all answer correctly, including one evicted while its rows were
// still open, and errors leave the statement usable.
func TestStatementCacheEviction(t *testing.T) {
	db := cacheTestDB(t, openCaching, 5)
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	open, err := conn.QueryContext(ctx, `SELECT v FROM kv ORDER BY k`)
	if err != nil {
		t.Fatal(err)
	}
	open.Next()
	for i := 0; i < stmtCacheSize+20; i++ {
		var got int
		q := fmt.Sprintf(`SELECT %d + k FROM kv WHERE k = ?`, i)
		if err := conn.QueryRowContext(ctx, q, 1).Scan(&got); err != nil || got != i+1 {
			t.Fatalf("statement %d: got %d, %v; want %d", i, got, err, i+1)
		}
	}
	n := 1
	for open.Next() {
		n++
	}
	if err := open.Close(); err != nil || n != 5 {
		t.Fatalf("rows of an evicted statement: read %d of 5, close: %v", n, err)
	}
	// A constraint error, then the same statement succeeds.
	const ins = `INSERT INTO kv (k, v) VALUES (?, ?)`
	if _, err := conn.ExecContext(ctx, ins, 1, "dup"); err == nil {
		t.Fatal("duplicate key inserted")
	}
	if _, err := conn.ExecContext(ctx, ins, 6, "v6"); err != nil {
		t.Fatalf("insert after a failed one: %v", err)
	}
	var v string
	if err := conn.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ?`, 6).Scan(&v); err != nil || v != "v6" {
		t.Fatalf("got %q, %v; want v6", v, err)
	}
}

// BenchmarkStatementCache: one point lookup and one insert per op, through
// database/sql as the store issues them, with the driver's own per-query
// preparation (uncached) and with the cache.
//
//	go test -run '^$' -bench StatementCache -benchmem ./chatcore/sqlite
func BenchmarkStatementCache(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(string) (*sql.DB, error)
	}{
		{"uncached", func(p string) (*sql.DB, error) { return sql.Open("sqlite", p) }},
		{"cached", openCaching},
	} {
		b.Run(tc.name, func(b *testing.B) {
			db := cacheTestDB(b, tc.open, 1000)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				var v string
				if err := db.QueryRowContext(ctx, `SELECT v FROM kv WHERE k = ? AND v <> ''`, i%1000+1).Scan(&v); err != nil {
					b.Fatal(err)
				}
				if _, err := db.ExecContext(ctx, `INSERT INTO kv (v) VALUES (?)`, v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
