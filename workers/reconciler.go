package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
)

// A pass pages through stuck attachments reconcileBatch at a time, at most
// reconcilePages pages, so one pass stays bounded when a long backlog keeps
// many rows in processing with live tasks (cheap to skip); the next pass
// starts from the oldest again.
const (
	reconcileBatch = 500
	reconcilePages = 20
)

// Reconciler keeps the database row the source of truth: it finds
// attachments that have been processing longer than Config.StuckAfter and
// makes sure a live task exists for each. A task that is gone (Redis lost
// its data, a worker died in a way asynq does not recover) is enqueued
// again; a task archived while its row still says processing (the last try
// could not record its verdict) is run once more, which either records the
// result or marks the attachment failed; a task left active with no lease
// (asynq issue #1144) gets an expired one, so that asynq's recoverer hands
// it back. Videos left ready at poster_ready longer than StuckAfter (their
// playback task lost) get the same checks, and the handler resumes them at
// the playback stage. Several processes may run
// reconcilers at once: task ids make their enqueues collapse into one.
type Reconciler struct {
	redis      asynq.RedisConnOpt
	store      chatcore.Store
	inspector  *asynq.Inspector
	rdb        goredis.UniversalClient // only for restoreExpiredLease (asynq issue #1144)
	enqueuer   *Enqueuer
	stuckAfter time.Duration
	every      time.Duration
	clock      chatcore.Clock
	log        *slog.Logger
	reconciled *prometheus.CounterVec
}

// NewReconciler returns a reconciler for the Redis and Store of cfg; it uses
// cfg.StuckAfter, cfg.ReconcileEvery, cfg.MaxRetry, cfg.Clock, cfg.Logger and
// cfg.Registerer (zero values take their defaults) and ignores the rest.
// It connects lazily; Run it in a goroutine of its own. It is independent
// of Server, so a deployment may run it in every worker (the default of
// cmd/parley) or in one process only.
func NewReconciler(cfg Config) *Reconciler {
	cfg = cfg.withDefaults()
	r := &Reconciler{
		redis:      cfg.Redis,
		store:      cfg.Store,
		stuckAfter: cfg.StuckAfter,
		every:      cfg.ReconcileEvery,
		clock:      cfg.Clock,
		log:        cfg.Logger.With(slog.String("component", "reconciler")),
		reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "parley", Subsystem: "media", Name: "reconciled_total",
			Help: "Stuck processing attachments the reconciler handed back to the queues, by action (enqueued, rerun, lease_restored).",
		}, []string{"action"}),
	}
	if cfg.Redis != nil {
		r.inspector = asynq.NewInspector(cfg.Redis)
		r.enqueuer = NewEnqueuer(cfg.Redis, EnqueueOptions{MaxRetry: cfg.MaxRetry})
		r.rdb, _ = cfg.Redis.MakeRedisClient().(goredis.UniversalClient)
	}
	if cfg.Registerer != nil {
		r.reconciled = reuse(cfg.Registerer, r.reconciled)
	}
	return r
}

// Run reconciles every ReconcileEvery (a negative period disables it) until
// ctx is done.
func (r *Reconciler) Run(ctx context.Context) {
	if r.every <= 0 {
		return
	}
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		if _, err := r.ReconcileOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("reconcile", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ReconcileOnce makes one pass and returns how many attachments it handed
// back to the queues.
func (r *Reconciler) ReconcileOnce(ctx context.Context) (int, error) {
	if r.store == nil || r.inspector == nil {
		return 0, errors.New("workers: reconciler needs Config.Store and Config.Redis")
	}
	before := r.clock.Now().Add(-r.stuckAfter)
	n, err := r.reconcileEach(ctx, "stuck attachment handed back to the queue", nil,
		func(after *chatcore.Attachment) ([]*chatcore.Attachment, error) {
			stuck, err := r.store.ListAttachments(ctx, chatcore.StatusProcessing, before, after, reconcileBatch)
			if err != nil {
				return nil, fmt.Errorf("list stuck attachments: %w", err)
			}
			return stuck, nil
		})
	if err != nil {
		return n, err
	}
	m, err := r.reconcileStep(ctx, before)
	return n + m, err
}

// reconcileStep handles videos left at poster_ready: ready with a poster
// while their playback task was lost (Redis lost it, or it ended without
// recording). The same checks as for a processing row hand them back; the
// handler resumes at the playback stage.
func (r *Reconciler) reconcileStep(ctx context.Context, before time.Time) (int, error) {
	ready := func(a *chatcore.Attachment) bool { return a.Status == chatcore.StatusReady }
	return r.reconcileEach(ctx, "video left at poster_ready handed back to the queue", ready,
		func(after *chatcore.Attachment) ([]*chatcore.Attachment, error) {
			left, err := r.store.ListAttachmentsAtStep(ctx, chatcore.StepPosterReady, before, after, reconcileBatch)
			if err != nil {
				return nil, fmt.Errorf("list attachments left at %s: %w", chatcore.StepPosterReady, err)
			}
			return left, nil
		})
}

// reconcileEach walks up to reconcilePages pages of list (each after the
// previous page's last attachment) and reconciles every attachment on them
// that keep accepts (nil: all), logging msg for each one handed back.
func (r *Reconciler) reconcileEach(ctx context.Context, msg string, keep func(*chatcore.Attachment) bool,
	list func(after *chatcore.Attachment) ([]*chatcore.Attachment, error)) (int, error) {
	n := 0
	var after *chatcore.Attachment
	for range reconcilePages {
		page, err := list(after)
		if err != nil {
			return n, err
		}
		for _, a := range page {
			if ctx.Err() != nil {
				return n, ctx.Err()
			}
			if keep != nil && !keep(a) {
				continue
			}
			action, err := r.reconcile(ctx, a)
			if err != nil {
				r.log.Warn("reconcile attachment", slog.String("attachment_id", a.ID), slog.Any("error", err))
				continue
			}
			if action != "" {
				n++
				r.reconciled.WithLabelValues(action).Inc()
				r.log.Info(msg, slog.String("attachment_id", a.ID), slog.String("action", action),
					slog.Time("updated_at", a.UpdatedAt))
			}
		}
		if len(page) < reconcileBatch {
			break
		}
		after = page[len(page)-1]
	}
	return n, nil
}

// reconcile checks one stuck attachment; action is "" if its task is alive.
func (r *Reconciler) reconcile(ctx context.Context, a *chatcore.Attachment) (action string, err error) {
	q := QueueFor(a.Kind)
	if q == "" {
		return "", fmt.Errorf("unknown kind %q", a.Kind)
	}
	info, err := r.inspector.GetTaskInfo(q, a.ID)
	switch {
	case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		if err := r.enqueuer.EnqueueAttachment(ctx, a); err != nil {
			return "", err
		}
		return "enqueued", nil
	case err != nil:
		return "", fmt.Errorf("task info: %w", err)
	}
	switch info.State {
	case asynq.TaskStateArchived:
		if err := r.inspector.RunTask(q, a.ID); err != nil {
			return "", fmt.Errorf("run archived task: %w", err)
		}
		return "rerun", nil
	case asynq.TaskStateActive:
		// asynq issue #1144: an active task whose lease entry is gone is
		// never recovered; see restoreExpiredLease.
		if r.rdb == nil {
			return "", nil
		}
		restored, err := restoreExpiredLease(ctx, r.rdb, q, a.ID)
		if err != nil {
			return "", fmt.Errorf("repair lease: %w", err)
		}
		if restored {
			return "lease_restored", nil
		}
	case asynq.TaskStateCompleted:
		// Finished but the row never moved: start over.
		if err := r.inspector.DeleteTask(q, a.ID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
			return "", fmt.Errorf("delete completed task: %w", err)
		}
		if err := r.enqueuer.EnqueueAttachment(ctx, a); err != nil {
			return "", err
		}
		return "enqueued", nil
	}
	return "", nil // pending, scheduled, retry, or active with a lease: alive
}

// Close releases the reconciler's Redis connections.
func (r *Reconciler) Close() error {
	if r.inspector == nil {
		return nil
	}
	err := errors.Join(r.inspector.Close(), r.enqueuer.Close())
	if r.rdb != nil {
		err = errors.Join(err, r.rdb.Close())
	}
	return err
}
