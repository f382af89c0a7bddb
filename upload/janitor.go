package upload

import (
	"context"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Janitor defaults.
const (
	DefaultJanitorInterval = time.Minute
	DefaultJanitorBatch    = 100
)

// Janitor removes pending uploads past their ExpiresAt: it aborts their
// multipart upload (deleting its parts), deletes their objects (if the
// client uploaded any) and the attachment row. For completed uploads it
// deletes what a still-valid single-upload URL may have written after
// complete (the upload key) once that URL has expired. Several nodes may run one;
// deleting twice is harmless.
type Janitor struct {
	Store   chatcore.AttachmentStore
	Objects ObjectStore
	Logger  *slog.Logger
	// Clock tells the time. If nil, the system clock.
	Clock chatcore.Clock
	// Interval between sweeps. If zero, DefaultJanitorInterval.
	Interval time.Duration
	// Batch is how many rows one query lists. If zero, DefaultJanitorBatch.
	Batch int
	// Retention, when positive and Lifecycle is set, expires ready and
	// failed attachments last updated longer ago than this: their objects
	// are deleted once no attachment shares them, and they show expired.
	Retention time.Duration
	Lifecycle *Lifecycle
}

// NewJanitor returns a Janitor with default interval and batch size.
func NewJanitor(store chatcore.AttachmentStore, objects ObjectStore, logger *slog.Logger) *Janitor {
	return &Janitor{Store: store, Objects: objects, Logger: logger}
}

// Run sweeps at once and then every Interval until ctx is done. Errors are
// logged; the next sweep retries.
func (j *Janitor) Run(ctx context.Context) {
	interval := j.Interval
	if interval <= 0 {
		interval = DefaultJanitorInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := j.Sweep(ctx); err != nil && ctx.Err() == nil {
			j.logger().ErrorContext(ctx, "upload janitor sweep", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (j *Janitor) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.Default()
	}
	return j.Logger
}

// Sweep removes every pending upload expired by now and, with a
// Retention, expires attachments older than it; it returns how many rows
// it removed or expired.
func (j *Janitor) Sweep(ctx context.Context) (int, error) {
	n, err := j.sweepPending(ctx)
	if err == nil {
		err = j.sweepLeftovers(ctx)
	}
	if err != nil || j.Retention <= 0 || j.Lifecycle == nil {
		return n, err
	}
	clock := j.Clock
	if clock == nil {
		clock = chatcore.SystemClock{}
	}
	m, err := j.Lifecycle.ExpireOlderThan(ctx, clock.Now().Add(-j.Retention), j.Batch, j.logger())
	if m > 0 {
		j.logger().InfoContext(ctx, "retention: attachments expired", slog.Int("count", m))
	}
	return n + m, err
}

func (j *Janitor) sweepPending(ctx context.Context) (int, error) {
	clock := j.Clock
	if clock == nil {
		clock = chatcore.SystemClock{}
	}
	batch := j.Batch
	if batch <= 0 {
		batch = DefaultJanitorBatch
	}
	now := clock.Now()
	removed := 0
	// Rows are listed by updated_at, which for a pending upload is its
	// creation; its ExpiresAt is later, so list everything older than now
	// and keep those whose ExpiresAt has passed. Rows not yet expired end
	// the walk: newer rows expire later still (with one configuration).
	before := now
	var after *chatcore.Attachment
	for {
		list, err := j.Store.ListAttachments(ctx, chatcore.StatusPending, before, after, batch)
		if err != nil {
			return removed, err
		}
		for _, a := range list {
			expires := a.ExpiresAt
			if expires.IsZero() {
				// Not made by Service (which always sets it): assume defaults.
				expires = a.UpdatedAt.Add(DefaultURLTTL + DefaultPendingGrace)
			}
			if expires.After(now) {
				return removed, nil
			}
			if err := deletePending(ctx, j.Store, j.Objects, a); err != nil {
				return removed, err
			}
			removed++
			j.logger().InfoContext(ctx, "expired upload removed", slog.String("attachment_id", a.ID))
		}
		if len(list) < batch {
			return removed, nil
		}
		after = list[len(list)-1]
		if err := ctx.Err(); err != nil {
			return removed, err
		}
	}
}

// sweepLeftovers deletes the upload key of completed attachments whose
// upload URL has expired, and forgets it.
func (j *Janitor) sweepLeftovers(ctx context.Context) error {
	clock := j.Clock
	if clock == nil {
		clock = chatcore.SystemClock{}
	}
	batch := j.Batch
	if batch <= 0 {
		batch = DefaultJanitorBatch
	}
	for {
		list, err := j.Store.ListUploadLeftovers(ctx, clock.Now(), batch)
		if err != nil {
			return err
		}
		for _, a := range list {
			if err := j.Objects.Delete(ctx, a.UploadKey); err != nil {
				return err
			}
			// Only the upload key changes; a concurrent update of the row
			// that writes it back just makes a later sweep delete again.
			a.UploadKey = ""
			if err := j.Store.UpdateAttachment(ctx, a); err != nil {
				return err
			}
		}
		if len(list) < batch {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}
