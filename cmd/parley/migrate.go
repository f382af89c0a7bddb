package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parley-chat/parley/chatcore/sqlite"
)

// runMigrate is `parley migrate`: applies the embedded migrations to
// Postgres (PARLEY_DATABASE_URL) or, without one, to the dev SQLite file.
// Safe to run from several nodes at once.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlags("migrate", &cfg, ":8080")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg.AutoMigrate = true
	a := newApp(cfg, stderr)
	defer a.close()
	if cfg.DatabaseURL != "" {
		if _, err := a.openPostgres(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "parley: postgres migrations applied")
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, "parley.db")
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
