package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/internal/testenv"
)

// backend is a Redis to run a test against: the real server (through
// testenv, a private flushed DB) or an in-process miniredis, as `parley dev`
// uses.
type backend struct {
	name string
	// options returns fresh client options for the server.
	options func() *goredis.Options
	// mini is set for the miniredis backend.
	mini *miniredis.Miniredis
}

// backends returns the real Redis and a fresh miniredis.
func backends(t *testing.T) []*backend {
	t.Helper()
	return []*backend{realRedis(t), miniRedis(t)}
}

func realRedis(tb testing.TB) *backend {
	tb.Helper()
	url := testenv.Redis(tb)
	if _, err := goredis.ParseURL(url); err != nil {
		tb.Fatalf("parse %s: %v", url, err)
	}
	return &backend{name: "redis", options: func() *goredis.Options {
		o, _ := goredis.ParseURL(url)
		return o
	}}
}

func miniRedis(tb testing.TB) *backend {
	tb.Helper()
	m := miniredis.RunT(tb)
	return &backend{name: "miniredis", mini: m, options: func() *goredis.Options {
		return &goredis.Options{Addr: m.Addr()}
	}}
}

// open returns a new client to be's server each time it is called, so that
// two clients act as two nodes.
func (be *backend) open(tb testing.TB) goredis.UniversalClient {
	c := goredis.NewClient(be.options())
	tb.Cleanup(func() { c.Close() })
	return c
}

// uniquePrefix keeps tests apart: pub/sub channels are shared by every DB
// number of a Redis server, and other packages test on it at the same time.
func uniquePrefix(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("random: %v", err)
	}
	return "parley:test:" + hex.EncodeToString(b) + ":"
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	return ctx
}
