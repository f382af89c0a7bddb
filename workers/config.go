package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/pipeline"
)

// ObjectStore is the part of upload.ObjectStore workers use: read an
// original, write derived files. Both adapters of package upload (S3 and
// local disk) satisfy it.
type ObjectStore interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
}

// Config configures a worker Server. Store, Objects, Bus and Redis are
// required; every other field has a documented default for its zero value.
type Config struct {
	// Store holds attachments, conversations and memberships. Required.
	Store chatcore.Store
	// Objects holds originals and derived files. Required.
	Objects ObjectStore
	// Bus carries attachment events to the chat nodes. Required.
	Bus chatcore.Bus
	// Redis is where asynq keeps its queues. Required.
	Redis asynq.RedisConnOpt

	// Concurrency is how many tasks this process works on at once.
	// If zero or negative, runtime.NumCPU().
	Concurrency int
	// Queues maps queue names (AllQueues: "voice", "image", "file",
	// "video") to weights; a queue left out or weighted zero is not
	// served by this process (e.g. {"video": 1} for a video-only worker).
	// If empty, DefaultQueueWeights().
	Queues map[string]int
	// StrictPriority serves a queue only when all heavier ones are empty.
	StrictPriority bool
	// MaxRetry is the retry budget of tasks this process enqueues itself
	// (the reconciler); tasks carry the budget their enqueuer gave them, so
	// keep it equal to the chat nodes' Enqueuer. If zero, DefaultMaxRetry;
	// if negative, no retries.
	MaxRetry int
	// RetryBase and RetryMax shape the backoff: retry n waits about
	// RetryBase·2ⁿ (±25% jitter), at most RetryMax. If zero, 2 s and 10 min.
	RetryBase, RetryMax time.Duration
	// Limits bound what the pipeline accepts; the zero value means the
	// pipeline's defaults.
	Limits pipeline.Limits
	// MaxOriginalBytes refuses originals larger than this (too_large) before
	// copying them. The temp file is also bounded by the attachment's
	// verified size. If zero, 1 GiB.
	MaxOriginalBytes int64
	// StuckAfter is how long an attachment may stay processing before the
	// reconciler checks that a live task still exists for it. If zero, 10 min.
	StuckAfter time.Duration
	// ReconcileEvery is the Reconciler's period. If zero, 1 min; if
	// negative, Reconciler.Run returns at once.
	ReconcileEvery time.Duration
	// ShutdownTimeout is how long Shutdown lets in-flight tasks finish
	// before handing them back to the queue. If zero, 30 s.
	ShutdownTimeout time.Duration
	// PollInterval is how often an idle process asks Redis for new tasks;
	// it bounds the pickup latency of a new upload (about half of it on
	// average, one Lua call per poll). If zero, 50 ms.
	PollInterval time.Duration
	// TempDir holds originals and derived files while a task runs. If
	// empty, os.TempDir().
	TempDir string
	// PlaybackTimeout bounds making a video's playback variant (a
	// transcode takes about the video's duration on two cores); the task
	// timeout of the video kind must leave room for it. If zero, 45 min.
	PlaybackTimeout time.Duration
	// Logger receives worker and asynq logs. If nil, slog.Default().
	Logger *slog.Logger
	// Registerer receives the worker's Prometheus metrics. If nil, metrics
	// are kept but not exported.
	Registerer prometheus.Registerer
	// Clock stamps updated_at and drives the reconciler's age check. If nil,
	// chatcore.SystemClock.
	Clock chatcore.Clock
}

// Validate reports the first missing or malformed field.
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("workers: Config.Store is required")
	case c.Objects == nil:
		return errors.New("workers: Config.Objects is required")
	case c.Bus == nil:
		return errors.New("workers: Config.Bus is required")
	case c.Redis == nil:
		return errors.New("workers: Config.Redis is required")
	}
	known := map[string]bool{}
	for _, q := range AllQueues() {
		known[q] = true
	}
	served := 0
	for q, w := range c.Queues {
		if !known[q] {
			return fmt.Errorf("workers: unknown queue %q (want one of %v)", q, AllQueues())
		}
		if w < 0 {
			return fmt.Errorf("workers: queue %q: negative weight %d", q, w)
		}
		if w > 0 {
			served++
		}
	}
	if len(c.Queues) > 0 && served == 0 {
		return errors.New("workers: Config.Queues serves no queue")
	}
	return nil
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = runtime.NumCPU()
	}
	if len(c.Queues) == 0 {
		c.Queues = DefaultQueueWeights()
	}
	switch {
	case c.MaxRetry == 0:
		c.MaxRetry = DefaultMaxRetry
	case c.MaxRetry < 0:
		c.MaxRetry = 0
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 10 * time.Minute
	}
	if c.MaxOriginalBytes <= 0 {
		c.MaxOriginalBytes = 1 << 30
	}
	if c.StuckAfter <= 0 {
		c.StuckAfter = 10 * time.Minute
	}
	if c.ReconcileEvery == 0 {
		c.ReconcileEvery = time.Minute
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 50 * time.Millisecond
	}
	if c.PlaybackTimeout <= 0 {
		c.PlaybackTimeout = 45 * time.Minute
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = chatcore.SystemClock{}
	}
	return c
}
