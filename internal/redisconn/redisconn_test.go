package redisconn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisconn"
	"github.com/parley-chat/parley/internal/testenv"
)

func TestParseSentinel(t *testing.T) {
	tests := []struct {
		url  string
		want goredis.FailoverOptions
	}{
		{"redis-sentinel://h1:26379,h2:26380/mymaster/0",
			goredis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{"h1:26379", "h2:26380"}}},
		{"redis-sentinel://h1,h2,h3/mymaster",
			goredis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{"h1:26379", "h2:26379", "h3:26379"}}},
		{"redis-sentinel://:p%40ss%2Cw@h1:26379/mymaster/3?sentinel_password=sp",
			goredis.FailoverOptions{MasterName: "mymaster", SentinelAddrs: []string{"h1:26379"}, Password: "p@ss,w", DB: 3, SentinelPassword: "sp"}},
		{"redis-sentinel://app:pw@[::1]:26379,10.0.0.2/main/2?sentinel_username=s&sentinel_password=sp",
			goredis.FailoverOptions{MasterName: "main", SentinelAddrs: []string{"[::1]:26379", "10.0.0.2:26379"}, Username: "app", Password: "pw", DB: 2, SentinelUsername: "s", SentinelPassword: "sp"}},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			cfg, err := redisconn.Parse(tc.url)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if cfg.Failover == nil || cfg.Single != nil {
				t.Fatalf("got %+v, want failover options only", cfg)
			}
			if diff := cmp.Diff(tc.want, *cfg.Failover, cmpopts.IgnoreUnexported(goredis.FailoverOptions{})); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			a, ok := cfg.Asynq().(asynq.RedisFailoverClientOpt)
			if !ok {
				t.Fatalf("asynq options: got %T, want RedisFailoverClientOpt", cfg.Asynq())
			}
			w := tc.want
			wantA := asynq.RedisFailoverClientOpt{MasterName: w.MasterName, SentinelAddrs: w.SentinelAddrs, SentinelUsername: w.SentinelUsername,
				SentinelPassword: w.SentinelPassword, Username: w.Username, Password: w.Password, DB: w.DB}
			if diff := cmp.Diff(wantA, a); diff != "" {
				t.Errorf("asynq options (-want +got):\n%s", diff)
			}
			if s := cfg.String(); strings.Contains(s, "pw") || strings.Contains(s, "p@ss") || !strings.Contains(s, w.MasterName) {
				t.Errorf("String: %q, want the master name and no password", s)
			}
		})
	}
}

func TestParseSingle(t *testing.T) {
	cfg, err := redisconn.Parse("redis://:secret@127.0.0.1:6380/4")
	if err != nil {
		t.Fatal(err)
	}
	want := asynq.RedisClientOpt{Network: "tcp", Addr: "127.0.0.1:6380", Password: "secret", DB: 4}
	if diff := cmp.Diff(want, cfg.Asynq(), cmpopts.IgnoreUnexported(asynq.RedisClientOpt{})); diff != "" {
		t.Errorf("asynq options (-want +got):\n%s", diff)
	}
	if cfg.Single.Addr != "127.0.0.1:6380" || cfg.Single.DB != 4 || cfg.Failover != nil {
		t.Errorf("go-redis options: got %+v", cfg.Single)
	}
	if s := cfg.String(); strings.Contains(s, "secret") {
		t.Errorf("String leaks the password: %q", s)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"", "want redis://"},
		{"127.0.0.1:6379", "want redis://"},
		{"http://h/0", "unsupported scheme"},
		{"redis-sentinel:///mymaster/0", "names no sentinel"},
		{"redis-sentinel://h1:26379", "names no master group"},
		{"redis-sentinel://h1:26379/", "names no master group"},
		{"redis-sentinel://h1:26379/m/x", `database "x"`},
		{"redis-sentinel://h1:26379/m/0/extra", "want /master or /master/db"},
		{"redis-sentinel://h1:99999/m", "bad port"},
		{"redis-sentinel://h1/m?master=x", `unknown option "master"`},
		{"redis-sentinel://:hunter2@h1:/m/0", "bad port"},
		{"redis://:hunter2@h1:6379/notadb", "invalid database"},
	} {
		_, err := redisconn.Parse(tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q): got %v, want an error containing %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q): error leaks the password: %v", tc.url, err)
		}
	}
}

// TestClientsFollowFailover: the go-redis client and asynq, opened from one
// Sentinel URL, keep working after the master is killed, on the promoted
// replica, and see what was written before the crash.
func TestClientsFollowFailover(t *testing.T) {
	g := testenv.Sentinel(t)
	cfg, err := redisconn.Parse(g.URL(2))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rdb := cfg.Client()
	defer rdb.Close()
	if err := rdb.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatalf("set before failover: %v", err)
	}
	ac := asynq.NewClient(cfg.Asynq())
	defer ac.Close()
	if _, err := ac.Enqueue(asynq.NewTask("t", nil), asynq.Queue("q"), asynq.TaskID("queued-before")); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	// Let replication carry it (asynchronous; sub-millisecond here).
	time.Sleep(200 * time.Millisecond)

	old := g.KillMaster()
	killed := time.Now()
	now := g.WaitFailover(old, 30*time.Second)
	t.Logf("failover %s → %s in %v", old, now, time.Since(killed).Round(time.Millisecond))

	for {
		err := rdb.Set(ctx, "after", "1", 0).Err()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("set after failover: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("go-redis writes again %v after the kill", time.Since(killed).Round(time.Millisecond))
	if v, err := rdb.Get(ctx, "before").Result(); err != nil || v != "1" {
		t.Errorf("key written before the failover: got %q %v, want 1", v, err)
	}
	insp := asynq.NewInspector(cfg.Asynq())
	defer insp.Close()
	info, err := insp.GetTaskInfo("q", "queued-before")
	if err != nil || info.State != asynq.TaskStatePending {
		t.Errorf("task queued before the failover: got %v %v, want pending", info, err)
	}
	if _, err := ac.Enqueue(asynq.NewTask("t", nil), asynq.Queue("q"), asynq.TaskID("queued-after")); err != nil {
		t.Errorf("enqueue after failover: %v", err)
	}
}
