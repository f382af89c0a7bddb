package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// Server is the asynq server of a worker process.
type Server struct {
	cfg     Config
	srv     *asynq.Server
	handler *Handler
	metrics *Metrics
	queues  *QueueCollector

	mu      sync.Mutex
	started bool
	stop    sync.Once
}

// NewServer validates cfg and builds a Server; it registers the worker
// metrics and the queue collector on cfg.Registerer.
func NewServer(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := NewMetrics(cfg.Registerer)
	s := &Server{cfg: cfg, metrics: m, handler: NewHandler(cfg, m)}
	if cfg.Registerer != nil {
		s.queues = NewQueueCollector(cfg.Redis)
		if err := cfg.Registerer.Register(s.queues); err != nil {
			s.queues.Close()
			s.queues = nil
			// One process (parley dev) may already export queue depth
			// from its chat half; one collector is enough.
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("workers: register queue collector: %w", err)
			}
		}
	}
	log := cfg.Logger.With(slog.String("component", "asynq"))
	s.srv = asynq.NewServer(cfg.Redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   cfg.Queues,
		StrictPriority:           cfg.StrictPriority,
		RetryDelayFunc:           Backoff(cfg.RetryBase, cfg.RetryMax),
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: time.Second,
		Logger:                   slogAdapter{log},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			retried, _ := asynq.GetRetryCount(ctx)
			log.Debug("task attempt failed", slog.String("task_id", id), slog.String("type", t.Type()),
				slog.Int("retried", retried), slog.Any("error", err))
		}),
		HealthCheckFunc: func(err error) {
			if err != nil {
				log.Warn("redis health check", slog.Any("error", err))
			}
		},
	})
	return s, nil
}

// Handler returns the server's task handler.
func (s *Server) Handler() *Handler { return s.handler }

// Start starts taking tasks and returns at once. It fails if Redis is
// unreachable. (The Reconciler is separate: see NewReconciler.)
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("workers: server already started")
	}
	if err := s.srv.Ping(); err != nil {
		return fmt.Errorf("workers: redis: %w", err)
	}
	if err := s.srv.Start(s.handler); err != nil {
		return fmt.Errorf("workers: start: %w", err)
	}
	s.started = true
	s.cfg.Logger.Info("media worker started",
		slog.Int("concurrency", s.cfg.Concurrency), slog.Any("queues", s.cfg.Queues))
	return nil
}

// Shutdown stops taking tasks, lets in-flight ones finish for up to
// Config.ShutdownTimeout, hands the rest back to their queues (another
// worker picks them up; the attempt does not count as a retry) and closes
// the Redis connections. Call it on SIGTERM.
func (s *Server) Shutdown() {
	s.stop.Do(func() {
		s.srv.Shutdown()
		if s.queues != nil {
			s.cfg.Registerer.Unregister(s.queues)
			s.queues.Close()
		}
	})
}

// Backoff returns an exponential retry delay: retry n waits base·2ⁿ with
// ±25% jitter, capped at max.
func Backoff(base, max time.Duration) asynq.RetryDelayFunc {
	return func(n int, _ error, _ *asynq.Task) time.Duration {
		d := base
		for i := 0; i < n && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		if q := int64(d / 2); q > 0 {
			d = d*3/4 + time.Duration(rand.Int64N(q))
		}
		return d
	}
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// Fatal is only called by asynq on unrecoverable setup errors; logging at
// error level and letting Start report the failure beats exiting.
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
