package sqlite

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a SQLite database that implements chatcore.Store.
type DB struct {
	*sqlstore.Store
}

var _ chatcore.Store = (*DB)(nil)

// busyTimeout is how long a connection waits for a lock another process
// (a second `parley` on the same file, a backup) holds.
const busyTimeout = 10 * time.Second

// Open opens (creating if needed) the database file at path, and its
// directory. It does not migrate: call Migrate. It fails at once when the
// file cannot be opened or is not a SQLite database.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	if strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") {
		// Reads and writes use separate pools, which must share one file.
		return nil, fmt.Errorf("sqlite: open %q: want a file path, not an in-memory database or URI", path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	pragmas := url.Values{"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		"foreign_keys(1)",
		"synchronous(NORMAL)", // durable across process crashes in WAL mode
	}}
	writeQ := url.Values{"_pragma": append(pragmas["_pragma"], "journal_mode(WAL)"), "_txlock": {"immediate"}}
	readQ := url.Values{"_pragma": append(pragmas["_pragma"], "query_only(1)")}

	write, err := openCaching(path + "?" + writeQ.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: SQLite allows one write transaction at a time anyway;
	// queueing in database/sql is fair and never returns SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	if err := write.PingContext(ctx); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Ping alone does not read the file; this fails on a non-database file.
	if _, err := write.ExecContext(ctx, `SELECT COUNT(*) FROM sqlite_master`); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	read, err := openCaching(path + "?" + readQ.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	return &DB{Store: sqlstore.New(read, write, sqlstore.Dialect{
		Name:                  "sqlite",
		Migrations:            migrations,
		TimeArg:               func(t time.Time) any { return t.UnixMicro() },
		IsUniqueViolation:     isCode(sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY),
		IsForeignKeyViolation: isCode(sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY),
		SearchFrom:            searchFrom,
		SearchWhere:           searchWhere,
		SearchMatch:           searchMatch,
		SyncHeadSQL:           `SELECT value FROM sync_counter WHERE id = 1`,
		ChangeIDExpr:          `(SELECT value + 1 FROM sync_counter WHERE id = 1)`,
		StampsAfterWrite:      true,
	})}, nil
}

// isCode returns a predicate matching SQLite extended result codes.
func isCode(codes ...int) func(error) bool {
	return func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		for _, c := range codes {
			if e.Code() == c {
				return true
			}
		}
		return false
	}
}
