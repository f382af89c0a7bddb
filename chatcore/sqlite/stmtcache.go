package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// stmtCacheSize bounds the prepared statements kept per connection. The
// store issues a few dozen distinct statements; IN lists of varying length
// make more, and the least recently used of those are finalized.
const stmtCacheSize = 256

// cachingConnector opens modernc.org/sqlite connections that keep their
// prepared statements. The driver prepares (parses and plans) every query
// anew and finalizes it after; under a chat load that parsing was a quarter
// of the dev server's CPU (docs/benchmarks.md). SQLite statements are
// reusable once reset, which the driver does when a cached statement's
// rows are closed.
type cachingConnector struct {
	driver.Connector // sqlite.NewConnector's
}

// openCaching is sql.Open("sqlite", dsn) with the statement cache.
func openCaching(dsn string) (*sql.DB, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{base}), nil
}

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(innerConn)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: driver connection lacks the context methods")
	}
	return &cachingConn{inner: inner, stmts: make(map[string]*list.Element), lru: list.New()}, nil
}

// innerConn is what modernc.org/sqlite's connection implements and the
// cache forwards.
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedStmt is a prepared statement kept by a connection. busy: rows of
// it are open, so another use of the same query text on this connection
// (nested in the iteration) runs uncached. dropped: evicted while busy,
// finalized when its rows close.
type cachedStmt struct {
	query   string
	stmt    driver.Stmt
	busy    bool
	dropped bool
}

// cachingConn is one connection with its statement cache. database/sql
// uses a connection from one goroutine at a time, so no lock is needed.
type cachingConn struct {
	inner innerConn
	stmts map[string]*list.Element // of *cachedStmt
	lru   *list.List               // most recently used first
}

var (
	_ innerConn = (*cachingConn)(nil)
)

// get returns the cached statement for query, preparing it on first use;
// nil (and no error) when the cached one is busy.
func (c *cachingConn) get(ctx context.Context, query string) (*cachedStmt, error) {
	if el, ok := c.stmts[query]; ok {
		cs := el.Value.(*cachedStmt)
		if cs.busy {
			return nil, nil
		}
		c.lru.MoveToFront(el)
		return cs, nil
	}
	st, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: st}
	c.stmts[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		old := c.lru.Back()
		c.lru.Remove(old)
		ocs := old.Value.(*cachedStmt)
		delete(c.stmts, ocs.query)
		if ocs.busy {
			ocs.dropped = true
		} else {
			ocs.stmt.Close()
		}
	}
	return cs, nil
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	return cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

// Prepare and PrepareContext (explicit db.Prepare) are not cached: the
// caller owns and closes that statement.
func (c *cachingConn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}
func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.inner.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner.BeginTx(ctx, opts)
}
func (c *cachingConn) Ping(ctx context.Context) error         { return c.inner.Ping(ctx) }
func (c *cachingConn) ResetSession(ctx context.Context) error { return c.inner.ResetSession(ctx) }
func (c *cachingConn) IsValid() bool                          { return c.inner.IsValid() }
func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	return checkNamedValue(c.inner, nv)
}

// Close finalizes every cached statement, then closes the connection.
func (c *cachingConn) Close() error {
	for el := c.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*cachedStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.stmts)
	return c.inner.Close()
}

// checkNamedValue defers to the driver's own argument conversion when it
// has one, else to database/sql's default.
func checkNamedValue(inner driver.Conn, nv *driver.NamedValue) error {
	if nc, ok := inner.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// cachedRows frees its statement for the next use when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.cs != nil {
		r.cs.busy = false
		if r.cs.dropped {
			r.cs.stmt.Close()
		}
		r.cs = nil
	}
	return err
}
