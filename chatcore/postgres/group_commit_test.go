package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/chatcore/storetest"
	"github.com/parley-chat/parley/internal/testenv"
)

func TestGroupCommit(t *testing.T) {
	urls := map[storetest.GroupCommitStore]string{}
	storetest.RunGroupCommit(t, storetest.GroupCommitAdapter{
		Open: func(t *testing.T) storetest.GroupCommitStore {
			u := testenv.Postgres(t)
			db, err := postgres.Open(context.Background(), u)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("migrate: %v", err)
			}
			urls[db] = u
			return db
		},
		RejectPoison: func(t *testing.T, s storetest.GroupCommitStore) {
			conn, err := pgx.Connect(t.Context(), urls[s])
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(t.Context(), `CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.body LIKE 'poison%' THEN RAISE EXCEPTION 'poisoned message'; END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER reject_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION reject_poison()`); err != nil {
				t.Fatalf("create trigger: %v", err)
			}
		},
	})
}
