package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a Postgres database that implements chatcore.Store.
type DB struct {
	*sqlstore.Store
}

var _ chatcore.Store = (*DB)(nil)

// Pool limits. Every chat node and worker holds its own pool, so it stays
// well below Postgres' default max_connections of 100.
const (
	maxOpenConns   = 20
	connectTimeout = 10 * time.Second
)

// SQLSTATE codes (Appendix A of the Postgres manual).
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// appendFlushers is how many group-commit batches commit at once (each over
// its own share of the conversations): two backends share the inserts' CPU
// (indexes, triggers) across cores while each batch still shares one commit
// among its messages. More made smaller batches whose commits queued on
// Postgres's WAL write lock (docs/benchmarks.md, "Flushers split by
// conversation").
const appendFlushers = 2

// migrationLockID keys the advisory lock Migrate holds ("parley" in ASCII).
const migrationLockID int64 = 0x7061726c6579

// appendMessageSQL stores a message in one statement and one round trip:
// the CTE raises last_seq under the conversation's row lock (which orders
// concurrent senders), and the INSERT uses it. A sender who is not a
// member, or whom the other member of a direct conversation blocks
// (system messages aside), matches no row, nor does a retry whose
// client_id is already stored (sqlstore then returns the original); one
// racing a concurrent twice hits the unique index, which fails the whole
// statement, so no seq is consumed either way.
const appendMessageSQL = `WITH c AS (
	UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = $7
	WHERE id = $2 AND NOT EXISTS (
		SELECT 1 FROM messages WHERE conversation_id = $2 AND sender_id = $4::text AND client_id = NULLIF($3::text, ''))
	AND ($8::text = 'system' OR (EXISTS (SELECT 1 FROM members WHERE conversation_id = $2 AND user_id = $4::text)
		AND NOT EXISTS (SELECT 1 FROM conversations cv JOIN members o ON o.conversation_id = cv.id
			JOIN blocks b ON b.blocker_id = o.user_id AND b.blocked_id = $4::text
			WHERE cv.id = $2 AND cv.kind = 'direct')))
	RETURNING last_seq
)
INSERT INTO messages (id, conversation_id, seq, client_id, sender_id, body, reply_to_seq, created_at, kind, mentions, system, location)
SELECT $1::text, $2, c.last_seq, NULLIF($3::text, ''), $4::text, $5::text, $6::bigint, $7, $8::text, $9::text, $10::text, $11::text FROM c
RETURNING seq, change_id`

// Open connects to the database at url (postgres://user:pass@host:port/db)
// and checks that it answers, failing within ten seconds when it does not.
// It does not migrate: call Migrate.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > connectTimeout {
		cfg.ConnectTimeout = connectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	pingCtx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, err)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &DB{Store: sqlstore.New(db, db, sqlstore.Dialect{
		Name:                  "postgres",
		Migrations:            migrations,
		TimeArg:               func(t time.Time) any { return sqlstore.UTC(t) },
		IsUniqueViolation:     isCode(uniqueViolation),
		IsForeignKeyViolation: isCode(foreignKeyViolation),
		LockMigrations:        lockMigrations,
		AppendMessageSQL:      appendMessageSQL,
		AppendBatch:           appendBatch,
		AppendFlushers:        appendFlushers,
		ArrayParams:           true,
		ShareLock:             ` FOR SHARE OF a`,
		SearchFrom:            searchFrom,
		SearchWhere:           searchWhere,
		SearchMatch:           searchMatch,
		ChangeIDExpr:          `nextval('sync_change_seq')`,
		SyncHeadSQL:           `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM sync_change_seq`,
	})}, nil
}

// lockMigrations holds a session advisory lock on conn until unlock.
func lockMigrations(ctx context.Context, conn *sql.Conn) (func() error, error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		return nil, err
	}
	return func() error {
		// The caller's ctx may be done; the unlock must still run.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockID)
		return err
	}, nil
}

func isCode(code string) func(error) bool {
	return func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == code
	}
}
