// Package sqlstore is the one SQL implementation of chatcore.Store shared by
// the sqlite and postgres adapters. It speaks database/sql with $N
// placeholders, which both modernc.org/sqlite and pgx's stdlib driver accept;
// what differs between the engines (column types in the migrations, error
// codes, time encoding, the migration lock, and a single-statement message
// append that only Postgres can express) is a Dialect the adapter supplies.
//
// Applications never use it directly; they open an adapter:
//
//	db, err := sqlite.Open(ctx, "data/parley.db") // or postgres.Open(ctx, url)
//	if err != nil { ... }
//	defer db.Close()
//	if err := db.Migrate(ctx); err != nil { ... }
//	var store chatcore.Store = db
package sqlstore
