package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/upload/local"
)

// runDev is `parley dev`: everything in one process with embedded defaults,
// nothing to install: SQLite under -data, an in-process Redis, a local-disk
// object store whose signed URLs Parley serves itself, and a media worker.
func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlags("dev", &cfg, "127.0.0.1:8080")
	if err := fs.parse(args); err != nil {
		return err
	}
	a := newApp(cfg, stderr)
	defer a.close()

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if cfg.JWTSecret == "" {
		s, err := devSecret(filepath.Join(cfg.DataDir, "jwt.secret"))
		if err != nil {
			return err
		}
		a.cfg.JWTSecret, cfg.JWTSecret = s, s
	}
	blobSecret, err := devSecret(filepath.Join(cfg.DataDir, "blob.secret"))
	if err != nil {
		return err
	}

	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "parley.db"))
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	a.onClose("database", func(context.Context) error { return db.Close() })
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}

	rdb, aopt, err := a.embeddedRedis()
	if err != nil {
		return err
	}
	// Operators' tools (parley jobs) need the embedded Redis: print it and
	// leave it in the data directory for `parley jobs -data DIR`.
	redisURL := "redis://" + aopt.(asynq.RedisClientOpt).Addr + "/0"
	urlFile := filepath.Join(cfg.DataDir, devRedisURLFile)
	if err := os.WriteFile(urlFile, []byte(redisURL+"\n"), 0o600); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	a.onClose("redis url file", func(context.Context) error { return os.Remove(urlFile) })
	fmt.Fprintf(stdout, "parley: embedded redis at %s (parley jobs list -data %s)\n", redisURL, cfg.DataDir)

	blobs, err := local.New(local.Config{
		Dir:     filepath.Join(cfg.DataDir, "blobs"),
		BaseURL: cfg.PublicURL,
		Secret:  []byte(blobSecret),
	})
	if err != nil {
		return fmt.Errorf("local object store: %w", err)
	}
	if err := blobs.EnsureBucket(ctx); err != nil {
		return fmt.Errorf("local object store: %w", err)
	}

	reg := newRegistry()
	if err := a.startWorker(ctx, workerDeps{store: db, redis: rdb, asynq: aopt, objects: blobs, registry: reg}); err != nil {
		return err
	}
	return a.serveChat(ctx, chatDeps{
		store:    db,
		redis:    rdb,
		asynq:    aopt,
		objects:  blobs,
		mounts:   withWeb(map[string]http.Handler{local.PathPrefix: blobs.Handler()}),
		registry: reg,
		ready: func(ctx context.Context) error {
			return errors.Join(db.Ping(ctx), rdb.Ping(ctx).Err())
		},
	}, stdout)
}

// devRedisURLFile, in the data directory, holds the URL of a running dev
// server's embedded Redis; `parley jobs -data DIR` reads it.
const devRedisURLFile = "redis.url"

// embeddedRedis starts miniredis. It expires keys only when its clock
// moves, so a ticker advances it in step with real time.
func (a *app) embeddedRedis() (goredis.UniversalClient, asynq.RedisConnOpt, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("embedded redis: %w", err)
	}
	stop := make(chan struct{})
	go func() {
		const step = 100 * time.Millisecond
		t := time.NewTicker(step)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mr.FastForward(step)
			}
		}
	}()
	a.onClose("embedded redis", func(context.Context) error {
		close(stop)
		mr.Close()
		return nil
	})
	client := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	a.onClose("redis client", func(context.Context) error { return client.Close() })
	return client, asynq.RedisClientOpt{Addr: mr.Addr()}, nil
}

// devSecret reads a random secret kept in the data dir, creating it on
// first use, so tokens and signed URLs survive restarts of the dev server.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	s := hex.EncodeToString(buf)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}
