// Package sqlite is the SQLite adapter of chatcore.Store, for `parley dev`
// and single-machine installs. It uses the pure-Go modernc.org/sqlite driver
// (no cgo) in WAL mode with a busy timeout and foreign keys on. All writes go
// through one connection, so concurrent writers queue in Go instead of
// failing with SQLITE_BUSY, while reads use a pool of read-only connections.
// The SQL itself is shared with the postgres adapter in internal/sqlstore.
//
//	db, err := sqlite.Open(ctx, "data/parley.db")
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	if err := db.Migrate(ctx); err != nil {
//		return err
//	}
package sqlite
