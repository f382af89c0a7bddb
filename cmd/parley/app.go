package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/redisconn"
)

// app holds what a subcommand opened, to close it in reverse order.
type app struct {
	cfg     Config
	logger  *slog.Logger
	closers []closer
}

type closer struct {
	name string
	fn   func(ctx context.Context) error
}

func newApp(cfg Config, stderr io.Writer) *app {
	return &app{cfg: cfg, logger: newLogger(cfg.LogLevel, stderr)}
}

// onClose registers fn to run at shutdown; the last registered runs first.
func (a *app) onClose(name string, fn func(ctx context.Context) error) {
	a.closers = append(a.closers, closer{name, fn})
}

// close runs the closers within the shutdown timeout.
func (a *app) close() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	for i := len(a.closers) - 1; i >= 0; i-- {
		c := a.closers[i]
		if err := c.fn(ctx); err != nil {
			a.logger.Warn("shutdown step failed", slog.String("step", c.name), slog.Any("error", err))
		}
	}
	a.closers = nil
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// openRedis connects to PARLEY_REDIS_URL — one server, or a Sentinel group
// whose current master every client follows — and returns a go-redis
// client for the bus and presence, and the same target as asynq options.
func (a *app) openRedis(ctx context.Context, url string) (goredis.UniversalClient, asynq.RedisConnOpt, error) {
	cfg, err := redisconn.Parse(url)
	if err != nil {
		return nil, nil, fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	client := cfg.Client()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("redis %s is unreachable: %w", cfg, err)
	}
	a.onClose("redis", func(context.Context) error { return client.Close() })
	return client, cfg.Asynq(), nil
}
