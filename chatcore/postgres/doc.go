// Package postgres is the Postgres adapter of chatcore.Store, for
// `parley serve` and `parley worker`. It shares its SQL with the sqlite
// adapter (internal/sqlstore) through database/sql and pgx's stdlib driver,
// which keeps pgx's per-connection statement cache, so a cached statement
// costs one round trip. A message without attachments is stored by a single
// statement (a data-modifying CTE that bumps last_seq and inserts the row).
// Migrate holds an advisory lock, so nodes starting together migrate once.
//
//	db, err := postgres.Open(ctx, "postgres://parley@db:5432/parley")
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	if err := db.Migrate(ctx); err != nil {
//		return err
//	}
package postgres
