package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/parley-chat/parley/chatcore/sqlite"
)

// runMigrate is `parley migrate`: applies the embedded migrations to
// Postgres (PARLEY_DATABASE_URL) or, with -data (PARLEY_DATA_DIR) and no
// database URL, to the dev SQLite file in that directory. It says which
// database it migrates, and never picks the SQLite file by default: a
// forgotten PARLEY_DATABASE_URL must not quietly migrate ./data/parley.db.
// Safe to run from several nodes at once.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlags("migrate", &cfg, ":8080")
	if err := fs.parse(args); err != nil {
		return err
	}
	dataGiven := false
	fs.Visit(func(f *flag.Flag) { dataGiven = dataGiven || f.Name == "data" })
	cfg.AutoMigrate = true
	a := newApp(cfg, stderr)
	defer a.close()
	if cfg.DatabaseURL != "" {
		fmt.Fprintf(stdout, "parley: migrating postgres database %s\n", describePostgres(cfg.DatabaseURL))
		if _, err := a.openPostgres(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "parley: postgres migrations applied")
		return nil
	}
	if !dataGiven {
		return errors.New("no database to migrate: set PARLEY_DATABASE_URL (or -database-url) for Postgres, " +
			"or pass -data DIR (PARLEY_DATA_DIR) to migrate the dev SQLite file DIR/parley.db")
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, "parley.db")
	fmt.Fprintf(stdout, "parley: migrating sqlite database %s\n", path)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "parley: sqlite migrations applied to %s\n", path)
	return nil
}

// describePostgres names a database URL's database, host and user without
// its password: "parley at db.internal:5432 as app".
func describePostgres(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(unparsable URL)"
	}
	out := strings.TrimPrefix(u.Path, "/") + " at " + u.Host
	if u.User != nil && u.User.Username() != "" {
		out += " as " + u.User.Username()
	}
	return out
}
