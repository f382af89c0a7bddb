package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Dialect is what an adapter tells Store about its engine.
type Dialect struct {
	// Name appears in error messages ("sqlite", "postgres").
	Name string
	// Migrations holds the numbered migration files (0001_init.sql, ...)
	// at its root.
	Migrations fs.FS
	// TimeArg encodes a time as a query argument. Times are stored in UTC
	// with microsecond precision; the scanner accepts int64 unix
	// microseconds or time.Time back.
	TimeArg func(t time.Time) any
	// IsUniqueViolation reports whether err is a unique or primary key
	// constraint violation.
	IsUniqueViolation func(err error) bool
	// IsForeignKeyViolation reports whether err is a foreign key violation.
	IsForeignKeyViolation func(err error) bool
	// LockMigrations takes an exclusive lock held by conn until unlock runs,
	// so that nodes migrating at once apply each migration exactly once.
	// Nil: the engine serialises writers by itself.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func() error, err error)
	// AppendMessageSQL, when set, is one statement that raises the
	// conversation's last_seq and inserts the message with it, returning
	// seq; its arguments are id, conversation_id, client_id, sender_id,
	// body, reply_to_seq, created_at, kind, mentions, system, location
	// (the last three JSON text, '' when absent). It returns no row when the
	// conversation does not exist or the client_id is stored already, and
	// must fail (unique violation) rather than consume a seq when a
	// concurrent duplicate wins. AppendMessage uses it for messages without
	// attachments: one round trip per send.
	// Empty: a transaction (UPDATE ... RETURNING, then INSERT).
	AppendMessageSQL string
	// AppendBatch, when set, stores a group-committed batch in one
	// statement (its own transaction): msgs have no attachments and no
	// two share conversation, sender and client_id. It returns each
	// message's seq, 0 for one it did not store (client_id stored before,
	// or no conversation), seqs consecutive per conversation in the order
	// of msgs; on error it stored none. BatchSeqs reads its reply.
	// Nil: one transaction that appends each message in turn.
	AppendBatch func(ctx context.Context, db *sql.DB, msgs []*chatcore.Message) ([]int64, error)
	// AppendFlushers is how many group-commit batches may commit at once
	// by default (GroupCommit.Flushers); 0 means 1.
	AppendFlushers int
	// ArrayParams renders "x is one of these ids" as x = ANY($n) with one
	// array argument, so the statement text (and the driver's prepared
	// statement) stays the same whatever the count. Else: x IN ($n, ...).
	ArrayParams bool
	// SearchFrom is the FROM clause of SearchMessages: it names the
	// messages table m and whatever index table the engine searches.
	// SearchWhere is the match condition on the arguments SearchMatch
	// builds from the normalised terms, written with placeholders from $2
	// (one per argument SearchMatch returns).
	SearchFrom  string
	SearchWhere string
	SearchMatch func(terms []string, prefix bool) []any
	// SyncHeadSQL returns one row, one column: the last change id handed
	// out (migration 0008).
	SyncHeadSQL string
	// ChangeIDExpr is the SQL expression a send inserts as the message's
	// change_id: the next value of the change counter.
	ChangeIDExpr string
	// StampsAfterWrite: the engine's triggers stamp change ids after the
	// row is written, so RETURNING does not see them and the store reads
	// them again (SQLite).
	StampsAfterWrite bool
	// ShareLock, appended to the query that loads the attachments a send
	// links, holds them until the send commits (" FOR SHARE OF a"), so a
	// worker's status change either lands before the send reads the row or
	// waits until the link is visible to the worker's notify. Empty: the
	// engine has one writer, which orders the two already (SQLite).
	ShareLock string
}

// Store implements chatcore.Store on database/sql.
type Store struct {
	read  *sql.DB // queries
	write *sql.DB // statements that change data; may be the same pool
	d     Dialect
	gc    groupCommitter
}

// New returns a Store using read for queries and write for changes (pass the
// same pool twice when the engine has no single-writer rule). Close closes both.
func New(read, write *sql.DB, d Dialect) *Store {
	s := &Store{read: read, write: write, d: d}
	s.SetGroupCommit(GroupCommit{})
	return s
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	if s.read != s.write {
		if err := s.read.PingContext(ctx); err != nil {
			return fmt.Errorf("%s: ping: %w", s.d.Name, err)
		}
	}
	return nil
}

// Close closes the connection pools.
func (s *Store) Close() error {
	err := s.write.Close()
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return err
}

// t encodes a time argument.
func (s *Store) t(t time.Time) any { return s.d.TimeArg(t) }

// tNull encodes an optional time argument.
func (s *Store) tNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.d.TimeArg(*t)
}

// inTx runs fn in a write transaction and commits it, rolling back on error.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// UTC returns t in UTC truncated to the microsecond: the form every stored
// time takes, so values round-trip equal.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// timeCol scans a stored time: int64 unix microseconds (SQLite) or a
// time.Time (Postgres); NULL leaves it invalid.
type timeCol struct {
	T     time.Time
	Valid bool
}

func (c *timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		c.T, c.Valid = time.Time{}, false
	case int64:
		c.T, c.Valid = time.UnixMicro(v).UTC(), true
	case time.Time:
		c.T, c.Valid = UTC(v), true
	default:
		return fmt.Errorf("scan time: unsupported type %T", src)
	}
	return nil
}

// ptr returns a pointer to the time, or nil when NULL.
func (c timeCol) ptr() *time.Time {
	if !c.Valid {
		return nil
	}
	t := c.T
	return &t
}

// placeholders returns "$from, $from+1, ..." for n arguments.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(from + i))
	}
	return b.String()
}

// in returns the condition that expr is one of ids, with placeholders
// numbered from `from`, and the arguments it takes.
func (s *Store) in(expr string, from int, ids []string) (string, []any) {
	if s.d.ArrayParams {
		return fmt.Sprintf("%s = ANY($%d)", expr, from), []any{ids}
	}
	return expr + " IN (" + placeholders(from, len(ids)) + ")", anys(ids)
}

// anys converts strings to query arguments.
func anys(ss []string) []any {
	a := make([]any, len(ss))
	for i, s := range ss {
		a[i] = s
	}
	return a
}

// dedupe returns ss without repeats, in first-seen order.
func dedupe(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// notFound wraps sql.ErrNoRows as ENotFound.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return chatcore.Errorf(chatcore.ENotFound, format, args...)
	}
	return err
}

// clampLimit applies a default and a maximum to a page size.
func clampLimit(limit, def, max int) int {
	if limit <= 0 {
		return def
	}
	return min(limit, max)
}

// scanStrings collects the first column of rows.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
