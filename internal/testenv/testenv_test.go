package testenv

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

func TestPostgresGivesEmptyPrivateDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
	conn, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatalf("connect %s: %v", a, err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema='public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("got %d tables in a new database, want 0", n)
	}
}

func TestRedisLeasesDistinctFlushedDatabases(t *testing.T) {
	ctx := context.Background()
	u1, u2 := Redis(t), Redis(t)
	if u1 == u2 {
		t.Fatalf("two leases gave the same database %s", u1)
	}
	opt, err := redis.ParseURL(u1)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	if n, err := c.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("got dbsize %d (err %v), want 0", n, err)
	}
}

func TestS3ServerAnswersAndRestarts(t *testing.T) {
	s := S3(t)
	get := func() (int, error) {
		resp, err := http.Get("http://" + s.Endpoint + "/")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	code, err := get()
	if err != nil {
		t.Fatalf("versitygw not answering: %v", err)
	}
	// An unsigned request must be refused: the server checks signatures.
	if code != http.StatusForbidden && code != http.StatusUnauthorized && code != http.StatusBadRequest {
		t.Fatalf("unsigned list: got status %d, want 400/401/403", code)
	}
	s.Stop()
	if _, err := get(); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("after Stop: got err %v, want connection refused", err)
	}
	s.Start()
	if _, err := get(); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
