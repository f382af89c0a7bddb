package workers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/pipeline"
)

// ProcessFunc is the signature of pipeline.Process; tests swap it to inject
// failures the real pipeline cannot be made to produce on demand.
type ProcessFunc func(ctx context.Context, kind pipeline.Kind, srcPath, outDir string, lim pipeline.Limits) (*pipeline.Result, error)

// Handler processes media tasks: it turns a processing attachment into a
// ready (or failed) one and tells the members. It implements asynq.Handler.
type Handler struct {
	store    chatcore.Store
	objects  ObjectStore
	bus      chatcore.Bus
	limits   pipeline.Limits
	maxBytes int64
	tempDir  string
	log      *slog.Logger
	clock    chatcore.Clock
	metrics  *Metrics
	process  ProcessFunc
	playback PlaybackFunc

	playbackTimeout time.Duration
}

// PlaybackFunc is the signature of pipeline.Playback.
type PlaybackFunc func(ctx context.Context, srcPath, outDir string, lim pipeline.Limits) ([]pipeline.Output, error)

var _ asynq.Handler = (*Handler)(nil)

// NewHandler returns the media task handler for cfg (zero fields take their
// defaults). m may be nil.
func NewHandler(cfg Config, m *Metrics) *Handler {
	cfg = cfg.withDefaults()
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Handler{
		store:    cfg.Store,
		objects:  cfg.Objects,
		bus:      cfg.Bus,
		limits:   cfg.Limits,
		maxBytes: cfg.MaxOriginalBytes,
		tempDir:  cfg.TempDir,
		log:      cfg.Logger,
		clock:    cfg.Clock,
		metrics:  m,
		process:  pipeline.Process,
		playback: pipeline.Playback,

		playbackTimeout: cfg.PlaybackTimeout,
	}
}

// ProcessTask processes one media task. It is idempotent: a ready
// attachment is left alone, and a re-run writes the same object keys and the
// same row. Errors: a bad payload or an attachment that no longer exists
// wrap asynq.SkipRetry; a permanent pipeline error marks the attachment
// failed and wraps asynq.SkipRetry (archived at once); any other error is
// returned for asynq to retry, and on the last try the attachment is marked
// failed first.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) (err error) {
	kind, ok := kindOfType(t.Type())
	if !ok {
		return fmt.Errorf("unknown task type %q: %w", t.Type(), asynq.SkipRetry)
	}
	p, err := ParseMediaPayload(t.Payload())
	if err != nil {
		h.metrics.job(kind, outcomeSkipped)
		return err
	}
	log := h.log.With(slog.String("attachment_id", p.AttachmentID), slog.String("kind", string(kind)))
	a, err := h.store.AttachmentByID(ctx, p.AttachmentID)
	switch {
	case chatcore.ErrorCode(err) == chatcore.ENotFound:
		log.Warn("media task for a missing attachment")
		h.metrics.job(kind, outcomeSkipped)
		return &taskError{ReasonGone, fmt.Errorf("attachment %s: gone: %w", p.AttachmentID, asynq.SkipRetry)}
	case err != nil:
		// The database is down: nothing to mark; retry, and the reconciler
		// covers the case where even the last try cannot reach it.
		h.metrics.job(kind, outcomeRetry)
		log.Warn("media task cannot load its attachment; will retry", slog.Any("error", err))
		return &taskError{ReasonDatabase, fmt.Errorf("load attachment %s: %w", p.AttachmentID, err)}
	}
	switch a.Status {
	case chatcore.StatusReady:
		if a.Step != chatcore.StepPosterReady {
			h.metrics.job(a.Kind, outcomeSkipped)
			return nil
		}
		// An earlier attempt recorded the poster and stopped before the
		// playback variant: run() picks up from there.
	case chatcore.StatusPending:
		// Completed uploads are marked processing before they are enqueued;
		// a pending row means that write is not visible yet.
		h.metrics.job(a.Kind, outcomeRetry)
		return fmt.Errorf("attachment %s is still pending", a.ID)
	case chatcore.StatusFailed:
		// An admin requeued it: show members it is being worked on again.
		a.Status, a.Error, a.UpdatedAt = chatcore.StatusProcessing, "", h.clock.Now().UTC()
		if err := h.store.UpdateAttachment(ctx, a); err != nil {
			h.metrics.job(a.Kind, outcomeRetry)
			log.Warn("media task cannot reopen its attachment; will retry", slog.Any("error", err))
			return &taskError{ReasonDatabase, fmt.Errorf("reopen attachment %s: %w", a.ID, err)}
		}
		h.notify(ctx, log, a)
	}

	defer func() {
		if r := recover(); r != nil {
			err = h.fail(ctx, log, a, fmt.Errorf("panic: %v", r))
		}
	}()
	start := time.Now()
	st := stages{start: start}
	if err := h.run(ctx, log, a, &st); err != nil {
		var pe *playbackError
		if errors.As(err, &pe) {
			return h.failPlayback(ctx, log, a, pe.err)
		}
		return h.fail(ctx, log, a, err)
	}
	if !st.observed {
		h.metrics.observe(a.Kind, time.Since(start))
	}
	h.metrics.job(a.Kind, outcomeReady)
	h.notify(ctx, log, a)
	log.Info("attachment ready", slog.Int64("took_ms", time.Since(start).Milliseconds()),
		slog.Int64("fetch_ms", st.fetch.Milliseconds()), slog.Int64("process_ms", st.process.Milliseconds()),
		slog.Int64("store_ms", st.store.Milliseconds()), slog.Int64("record_ms", st.record.Milliseconds()))
	return nil
}

// stages times the parts of a run for the log.
type stages struct {
	fetch, process, store, record time.Duration
	// start is when the attempt began; observed is set once the
	// processing time (to the first ready state, for a video the poster)
	// went into the metrics.
	start    time.Time
	observed bool
}

// lap returns the time since *t and moves *t to now.
func lap(t *time.Time) time.Duration {
	now := time.Now()
	d := now.Sub(*t)
	*t = now
	return d
}

// run processes a and, on success, records the result in one update. A
// video is recorded twice: ready with StepPosterReady (poster, duration,
// size) as soon as its poster exists, members told at once, then with its
// playback variant and stripped original when Playback is done; an error
// of that second stage is a *playbackError.
func (h *Handler) run(ctx context.Context, log *slog.Logger, a *chatcore.Attachment, st *stages) error {
	t := time.Now()
	dir, err := os.MkdirTemp(h.tempDir, "parley-media-*")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)

	src := filepath.Join(dir, "original")
	if err := h.fetch(ctx, a, src); err != nil {
		return err
	}
	st.fetch = lap(&t)
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o700); err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	mk, _ := chatcore.MediaKindOf(a.Kind)
	if a.Status == chatcore.StatusReady && a.Step == chatcore.StepPosterReady {
		return h.runPlayback(ctx, a, src, out, st)
	}
	res, err := h.process(ctx, pipeline.Kind(mk.Pipeline), src, out, h.limits)
	if err != nil {
		return fmt.Errorf("process: %w", err)
	}
	st.process = lap(&t)

	variants := map[string]chatcore.Variant{
		chatcore.VariantOriginal: {
			Key:         a.ObjectKey,
			ContentType: firstNonEmpty(res.ContentType, a.ContentType),
			Size:        a.Size,
			Width:       res.Width,
			Height:      res.Height,
		},
	}
	for _, o := range res.Outputs {
		key := VariantKey(a.ObjectKey, o.Name, extension(o.ContentType, o.Path))
		if err := h.put(ctx, key, o.Path, o.ContentType); err != nil {
			return err
		}
		variants[o.Name] = chatcore.Variant{
			Key: key, ContentType: o.ContentType, Size: o.Size, Width: o.Width, Height: o.Height,
		}
	}

	st.store = lap(&t)

	done := *a
	done.Status = chatcore.StatusReady
	done.Error = ""
	done.ContentType = firstNonEmpty(res.ContentType, a.ContentType)
	done.Width, done.Height = res.Width, res.Height
	done.DurationMS = res.DurationMS
	done.Blurhash = res.Blurhash
	done.Waveform = res.Waveform
	done.Animated, done.FrameCount = res.Animated, res.FrameCount
	done.SHA256 = res.SHA256
	done.Variants = variants
	done.Step = ""
	video := res.Kind == pipeline.KindVideo
	if video {
		done.Step = chatcore.StepPosterReady
	}
	done.UpdatedAt = h.clock.Now().UTC()
	if err := h.store.UpdateAttachment(ctx, &done); err != nil {
		return fmt.Errorf("record result: %w", err)
	}
	st.record = lap(&t)
	*a = done
	if !video {
		return nil
	}
	h.metrics.observe(a.Kind, time.Since(st.start))
	st.observed = true
	h.notify(ctx, log, a)
	return h.runPlayback(ctx, a, src, out, st)
}

// playbackError is an error of a video's second stage: the attachment is
// ready with its poster, so it must not be marked failed.
type playbackError struct{ err error }

func (e *playbackError) Error() string { return e.err.Error() }
func (e *playbackError) Unwrap() error { return e.err }

// runPlayback makes a ready video's playback variant and stripped original
// and records them, ending the poster_ready step.
func (h *Handler) runPlayback(ctx context.Context, a *chatcore.Attachment, src, out string, st *stages) error {
	t := time.Now()
	outs, err := h.playback(ctx, src, out, h.playbackLimits())
	if err != nil {
		return &playbackError{fmt.Errorf("playback: %w", err)}
	}
	st.process += lap(&t)
	done := *a
	done.Variants = maps.Clone(a.Variants)
	for _, o := range outs {
		key := VariantKey(a.ObjectKey, o.Name, extension(o.ContentType, o.Path))
		if err := h.put(ctx, key, o.Path, o.ContentType); err != nil {
			return &playbackError{err}
		}
		v := chatcore.Variant{Key: key, ContentType: o.ContentType, Size: o.Size, Width: o.Width, Height: o.Height}
		if o.Name == chatcore.VariantOriginal {
			v.Width, v.Height = a.Width, a.Height
		}
		done.Variants[o.Name] = v
	}
	st.store += lap(&t)
	done.Step = ""
	done.UpdatedAt = h.clock.Now().UTC()
	if err := h.store.UpdateAttachment(ctx, &done); err != nil {
		return &playbackError{fmt.Errorf("record playback: %w", err)}
	}
	st.record += lap(&t)
	*a = done
	return nil
}

// playbackLimits are the video limits with the time a transcode needs: on
// two cores a 1080p video takes about its own duration at the playback
// settings, so the pipeline's 5 min default would cut long ones short.
func (h *Handler) playbackLimits() pipeline.Limits {
	lim := h.limits
	if lim.Timeout < h.playbackTimeout {
		lim.Timeout = h.playbackTimeout
	}
	return lim
}

// failPlayback decides what a failed second stage means. The poster stays:
// the attachment is ready either way. A transient error is retried (the
// next attempt resumes at the playback stage); a permanent one, or the last
// try, ends the step without a playback variant, and clients play the
// original.
func (h *Handler) failPlayback(ctx context.Context, log *slog.Logger, a *chatcore.Attachment, cause error) error {
	if errors.Is(cause, context.Canceled) && ctx.Err() != nil {
		h.metrics.job(a.Kind, outcomeRetry)
		log.Warn("playback interrupted", slog.Any("error", cause))
		return cause
	}
	perm := permanent(cause)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if !perm && retried < maxRetry {
		h.metrics.job(a.Kind, outcomeRetry)
		log.Warn("playback failed; will retry", slog.Int("retried", retried), slog.Any("error", cause))
		return cause
	}
	h.metrics.job(a.Kind, outcomeFailed)
	log.Error("playback failed for good; the video stays ready without it",
		slog.String("reason", Reason(cause)), slog.Any("error", cause))
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	done := *a
	done.Step, done.UpdatedAt = "", h.clock.Now().UTC()
	if err := h.store.UpdateAttachment(wctx, &done); err != nil {
		return fmt.Errorf("%w (and ending the poster_ready step: %v)", cause, err)
	}
	*a = done
	h.notify(wctx, log, a)
	return fmt.Errorf("playback: %w: %w", cause, asynq.SkipRetry)
}

// fetch streams the original into dst, refusing more bytes than the
// attachment's verified size (or the configured bound).
func (h *Handler) fetch(ctx context.Context, a *chatcore.Attachment, dst string) error {
	limit := h.maxBytes
	if a.Size > 0 && a.Size < limit {
		limit = a.Size
	}
	if a.Size > h.maxBytes {
		return &permanentError{fmt.Errorf("original of %d bytes is over the %d byte bound: %w", a.Size, h.maxBytes, pipeline.ErrTooLarge)}
	}
	rc, err := h.objects.Open(ctx, a.ObjectKey)
	if err != nil {
		return &storageError{fmt.Errorf("open original %s: %w", a.ObjectKey, err)}
	}
	defer rc.Close()
	f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("temp file: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(rc, limit+1))
	if cerr := f.Close(); err == nil && cerr != nil {
		return fmt.Errorf("temp file: %w", cerr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("read original %s: %w", a.ObjectKey, ctx.Err())
		}
		return &storageError{fmt.Errorf("read original %s: %w", a.ObjectKey, err)}
	}
	if n > limit {
		return &permanentError{fmt.Errorf("original %s is larger than its verified %d bytes: %w", a.ObjectKey, limit, pipeline.ErrTooLarge)}
	}
	return nil
}

// put uploads one derived file.
func (h *Handler) put(ctx context.Context, key, file, contentType string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("open output: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat output: %w", err)
	}
	if err := h.objects.Put(ctx, key, f, st.Size(), contentType); err != nil {
		return &storageError{fmt.Errorf("put %s: %w", key, err)}
	}
	return nil
}

// fail decides what a failed attempt means. On a permanent error or the
// last try it marks a failed with a reason code and tells the members; it
// returns the error asynq should see.
func (h *Handler) fail(ctx context.Context, log *slog.Logger, a *chatcore.Attachment, cause error) error {
	if errors.Is(cause, context.Canceled) && ctx.Err() != nil {
		// Shutdown handed the task back to the queue, or an admin cancelled
		// it: this attempt has no verdict to record.
		h.metrics.job(a.Kind, outcomeRetry)
		log.Warn("media task interrupted", slog.Any("error", cause))
		return &taskError{ReasonInterrupted, cause}
	}
	reason := Reason(cause)
	perm := permanent(cause)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	if !perm && retried < maxRetry {
		h.metrics.job(a.Kind, outcomeRetry)
		log.Warn("media task failed; will retry",
			slog.String("reason", reason), slog.Int("retried", retried), slog.Int("max_retry", maxRetry), slog.Any("error", cause))
		return &taskError{reason, cause}
	}
	h.metrics.job(a.Kind, outcomeFailed)
	log.Error("media task failed for good",
		slog.String("reason", reason), slog.Bool("permanent", perm), slog.Int("retried", retried), slog.Any("error", cause))
	// The attempt's context may be what ran out; the verdict must still land.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	failed := *a
	failed.Status, failed.Error, failed.UpdatedAt = chatcore.StatusFailed, reason, h.clock.Now().UTC()
	if err := h.store.UpdateAttachment(wctx, &failed); err != nil {
		log.Error("mark attachment failed", slog.Any("error", err))
		return &taskError{reason, fmt.Errorf("%w (and marking it failed: %v)", cause, err)}
	}
	*a = failed
	h.notify(wctx, log, a)
	if perm {
		return &taskError{reason, fmt.Errorf("%w: %w", cause, asynq.SkipRetry)}
	}
	return &taskError{reason, cause}
}

// notify publishes a's state to the uploader and every member of the
// conversations whose messages carry it. A failure to publish is logged, not
// retried: the row is the truth, and clients see it when they sync.
func (h *Handler) notify(ctx context.Context, log *slog.Logger, a *chatcore.Attachment) {
	if err := Notify(ctx, h.store, h.bus, a); err != nil {
		log.Warn("publish attachment event", slog.Any("error", err))
	}
}

// Notify publishes an attachment frame for a to its uploader and to the
// members of every conversation that carries it.
func Notify(ctx context.Context, store chatcore.Store, bus chatcore.Bus, a *chatcore.Attachment) error {
	convs, err := store.AttachmentConversationIDs(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("conversations of %s: %w", a.ID, err)
	}
	seen := map[string]bool{a.UploaderID: true}
	recipients := []string{a.UploaderID}
	for _, c := range convs {
		ids, err := store.MemberIDs(ctx, c)
		if err != nil && chatcore.ErrorCode(err) != chatcore.ENotFound {
			return fmt.Errorf("members of %s: %w", c, err)
		}
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				recipients = append(recipients, id)
			}
		}
	}
	if convs == nil {
		convs = []string{}
	}
	// The status change stamped its messages' change ids already; the
	// counter's value now is at or after them, a valid live cursor.
	head, err := store.SyncHead(ctx)
	if err != nil {
		return fmt.Errorf("sync head: %w", err)
	}
	frame := chatcore.EncodeFrame(chatcore.AttachmentFrame{
		Type: chatcore.FrameAttachment, Attachment: a, ConversationIDs: convs, Cursor: chatcore.LiveCursor(head),
	})
	ev := chatcore.Event{Recipients: recipients, Frame: frame, PublishedAt: time.Now().UnixNano()}
	if err := bus.Publish(ctx, ev); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// VariantKey is the object key of a derived file: next to the original,
// named after the variant, so every run of a task writes the same keys.
// "u/ab/cd/original.jpg" → "u/ab/cd/preview.jpg"; an original whose name
// does not start with "original" gets its variants under "<key>.d/".
func VariantKey(originalKey, variant, ext string) string {
	dir, base := path.Split(originalKey)
	if strings.HasPrefix(base, chatcore.VariantOriginal) {
		return dir + variant + ext
	}
	return originalKey + ".d/" + variant + ext
}

// extension picks a file extension for a derived file: the kind table's
// (chatcore.FileExtension), else the file's own, else the system's.
func extension(contentType, file string) string {
	if ext := chatcore.FileExtension(contentType); ext != "" {
		return ext
	}
	if ext := filepath.Ext(file); ext != "" {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
