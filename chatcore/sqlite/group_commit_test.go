package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/chatcore/storetest"
)

func TestGroupCommit(t *testing.T) {
	paths := map[storetest.GroupCommitStore]string{}
	storetest.RunGroupCommit(t, storetest.GroupCommitAdapter{
		Open: func(t *testing.T) storetest.GroupCommitStore {
			p := filepath.Join(t.TempDir(), "parley.db")
			db, err := sqlite.Open(context.Background(), p)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			paths[db] = p
			return db
		},
		RejectPoison: func(t *testing.T, s storetest.GroupCommitStore) {
			raw, err := sql.Open("sqlite", paths[s])
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer raw.Close()
			if _, err := raw.ExecContext(t.Context(), `CREATE TRIGGER reject_poison BEFORE INSERT ON messages
WHEN NEW.body LIKE 'poison%' BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`); err != nil {
				t.Fatalf("create trigger: %v", err)
			}
		},
	})
}
