package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the master group name a SentinelGroup monitors.
const SentinelMaster = "mymaster"

// SentinelGroup is a Redis master, one replica and three sentinels, each a
// real redis-server process on a free loopback port with its own
// directory, for failover tests. Sentinels mark a server down after 1 s.
type SentinelGroup struct {
	SentinelAddrs []string

	tb      testing.TB
	dir     string
	bin     string
	mu      sync.Mutex
	servers map[string]*exec.Cmd // by host:port
}

// RedisServerBinary finds redis-server (Debian's redis-server package).
func RedisServerBinary() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/bin/redis-server", "/usr/local/bin/redis-server"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("redis-server not found; run deploy/deps.sh (apt-get install redis-server redis-sentinel)")
}

// Sentinel starts a group for tb and stops it when tb ends. It returns once
// the replica is in sync and every sentinel knows the replica and the two
// other sentinels, so a failover can be agreed at once.
func Sentinel(tb testing.TB) *SentinelGroup {
	tb.Helper()
	bin, err := RedisServerBinary()
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	g := &SentinelGroup{tb: tb, dir: tb.TempDir(), bin: bin, servers: map[string]*exec.Cmd{}}
	tb.Cleanup(g.stopAll)
	master := fmt.Sprintf("127.0.0.1:%d", FreePort(tb))
	replica := fmt.Sprintf("127.0.0.1:%d", FreePort(tb))
	g.startServer(master, "")
	g.startServer(replica, master)
	for i := range 3 {
		addr := fmt.Sprintf("127.0.0.1:%d", FreePort(tb))
		dir := filepath.Join(g.dir, fmt.Sprintf("sentinel-%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			tb.Fatal(err)
		}
		_, mport, _ := strings.Cut(master, ":")
		_, port, _ := strings.Cut(addr, ":")
		conf := filepath.Join(dir, "sentinel.conf")
		err := os.WriteFile(conf, []byte(strings.Join([]string{
			"port " + port,
			"bind 127.0.0.1",
			"dir " + dir,
			"logfile " + filepath.Join(dir, "sentinel.log"),
			"sentinel monitor " + SentinelMaster + " 127.0.0.1 " + mport + " 2",
			"sentinel down-after-milliseconds " + SentinelMaster + " 1000",
			"sentinel failover-timeout " + SentinelMaster + " 10000",
			"sentinel parallel-syncs " + SentinelMaster + " 1",
		}, "\n")+"\n"), 0o644)
		if err != nil {
			tb.Fatal(err)
		}
		g.spawn(addr, conf, "--sentinel")
		g.SentinelAddrs = append(g.SentinelAddrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range g.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s})
		for {
			m, err := sc.Master(ctx, SentinelMaster).Result()
			if err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2" {
				break
			}
			if ctx.Err() != nil {
				sc.Close()
				tb.Fatalf("testenv: sentinel %s did not discover the group within 30s (last: %v %v)\n%s", s, m, err, g.Logs())
			}
			time.Sleep(100 * time.Millisecond)
		}
		sc.Close()
	}
	rc := redis.NewClient(&redis.Options{Addr: replica})
	defer rc.Close()
	for {
		info, err := rc.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			break
		}
		if ctx.Err() != nil {
			tb.Fatalf("testenv: replica %s not in sync within 30s: %v\n%s", replica, err, g.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return g
}

// URL is the PARLEY_REDIS_URL of the group's database db.
func (g *SentinelGroup) URL(db int) string {
	return fmt.Sprintf("redis-sentinel://%s/%s/%d", strings.Join(g.SentinelAddrs, ","), SentinelMaster, db)
}

func (g *SentinelGroup) startServer(addr, replicaOf string) {
	g.tb.Helper()
	dir := filepath.Join(g.dir, "redis-"+strings.ReplaceAll(addr, ":", "-"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		g.tb.Fatal(err)
	}
	_, port, _ := strings.Cut(addr, ":")
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"),
		"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0"}
	if replicaOf != "" {
		h, p, _ := strings.Cut(replicaOf, ":")
		args = append(args, "--replicaof", h, p)
	}
	g.spawn(addr, "", args...)
}

func (g *SentinelGroup) spawn(addr, conf string, args ...string) {
	g.tb.Helper()
	if conf != "" {
		args = append([]string{conf}, args...)
	}
	cmd := exec.Command(g.bin, args...)
	if err := cmd.Start(); err != nil {
		g.tb.Fatalf("testenv: start %s %v: %v", g.bin, args, err)
	}
	g.mu.Lock()
	g.servers[addr] = cmd
	g.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	for c.Ping(ctx).Err() != nil {
		if ctx.Err() != nil {
			g.tb.Fatalf("testenv: %s did not answer on %s\n%s", g.bin, addr, g.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MasterAddr asks the sentinels which server is the master now.
func (g *SentinelGroup) MasterAddr(ctx context.Context) (string, error) {
	var last error
	for _, s := range g.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s})
		hp, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		sc.Close()
		if err == nil && len(hp) == 2 {
			return hp[0] + ":" + hp[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names a master: %v", last)
}

// KillMaster kills the current master with SIGKILL (a crash: no goodbye to
// clients or replicas) and returns its address.
func (g *SentinelGroup) KillMaster() string {
	g.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addr, err := g.MasterAddr(ctx)
	if err != nil {
		g.tb.Fatalf("testenv: %v", err)
	}
	g.mu.Lock()
	cmd := g.servers[addr]
	delete(g.servers, addr)
	g.mu.Unlock()
	if cmd == nil {
		g.tb.Fatalf("testenv: master %s is not a process of this group", addr)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return addr
}

// WaitFailover waits until the sentinels name a master other than old and
// that master accepts writes, and returns it.
func (g *SentinelGroup) WaitFailover(old string, timeout time.Duration) string {
	g.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		addr, err := g.MasterAddr(ctx)
		if err == nil && addr != old {
			c := redis.NewClient(&redis.Options{Addr: addr})
			role, rerr := c.Do(ctx, "ROLE").Slice()
			c.Close()
			if rerr == nil && len(role) > 0 && role[0] == "master" {
				return addr
			}
		}
		if ctx.Err() != nil {
			g.tb.Fatalf("testenv: no failover from %s within %v (sentinels say %q, %v)\n%s", old, timeout, addr, err, g.Logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Logs returns the tails of every server's and sentinel's log, for failures.
func (g *SentinelGroup) Logs() string {
	var b strings.Builder
	matches, _ := filepath.Glob(filepath.Join(g.dir, "*", "*.log"))
	for _, m := range matches {
		data, _ := os.ReadFile(m)
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		fmt.Fprintf(&b, "== %s\n%s\n", m, strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
	return b.String()
}

func (g *SentinelGroup) stopAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for addr, cmd := range g.servers {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		delete(g.servers, addr)
	}
}
