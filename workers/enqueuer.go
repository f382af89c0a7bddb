package workers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
)

// EnqueueOptions tune the tasks an Enqueuer makes.
type EnqueueOptions struct {
	// MaxRetry is each task's retry budget. If zero, DefaultMaxRetry; if
	// negative, no retries.
	MaxRetry int
	// Timeouts bound one attempt per kind. Kinds left out take
	// DefaultTaskTimeouts().
	Timeouts map[chatcore.AttachmentKind]time.Duration
}

// Enqueuer puts media tasks on the queues. It implements upload.Enqueuer:
// the chat nodes call it when an upload completes, and the reconciler when
// a task was lost.
type Enqueuer struct {
	client *asynq.Client
	opts   EnqueueOptions
}

// NewEnqueuer returns an Enqueuer on redis. Close it when done.
func NewEnqueuer(redis asynq.RedisConnOpt, opts EnqueueOptions) *Enqueuer {
	switch {
	case opts.MaxRetry == 0:
		opts.MaxRetry = DefaultMaxRetry
	case opts.MaxRetry < 0:
		opts.MaxRetry = 0
	}
	return &Enqueuer{client: asynq.NewClient(redis), opts: opts}
}

// EnqueueAttachment enqueues the task that processes a, with a.ID as the
// task id. If a task with that id is still queued, running, waiting to
// retry or archived, nothing changes and it returns nil: a repeated complete
// never makes a second job.
func (e *Enqueuer) EnqueueAttachment(ctx context.Context, a *chatcore.Attachment) error {
	opts := []asynq.Option{asynq.MaxRetry(e.opts.MaxRetry)}
	if d := e.opts.Timeouts[a.Kind]; d > 0 {
		opts = append(opts, asynq.Timeout(d))
	}
	t, err := NewMediaTask(a, opts...)
	if err != nil {
		return err
	}
	_, err = e.client.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s %s: %w", t.Type(), a.ID, err)
	}
	return nil
}

// Close releases the Redis connection.
func (e *Enqueuer) Close() error { return e.client.Close() }
