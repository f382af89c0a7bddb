package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/pipeline"
)

var _ chatcore.UploadService = (*Service)(nil)

// Service implements chatcore.UploadService.
type Service struct {
	cfg     Config
	store   Store
	objects ObjectStore
	clock   chatcore.Clock
	log     *slog.Logger
	limiter *ratelimit.Keyed
}

// NewService returns a Service for cfg (zero fields get their defaults).
func NewService(cfg Config) (*Service, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Service{
		cfg:     cfg,
		store:   cfg.Store,
		objects: cfg.Objects,
		clock:   cfg.Clock,
		log:     cfg.Logger,
		limiter: uploadLimiter(cfg.UploadsPerMinute, cfg.UploadBurst),
	}, nil
}

// CreateUpload checks req against the limits of its kind, the
// conversation's membership, the user's rate limit and daily quota, stores
// a pending attachment and returns the presigned request for its bytes.
func (s *Service) CreateUpload(ctx context.Context, userID string, req chatcore.UploadRequest) (*chatcore.UploadTicket, error) {
	limit, ok := s.cfg.Limits[req.Kind]
	if !ok {
		return nil, chatcore.Errorf(chatcore.EInvalid, "kind must be one of %s", chatcore.MediaKindList())
	}
	contentType, err := s.checkContentType(req.Kind, limit, req.ContentType)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Size <= 0:
		return nil, chatcore.Errorf(chatcore.EInvalid, "size must be a positive number of bytes")
	case req.Size > limit.MaxBytes:
		return nil, chatcore.Errorf(chatcore.ETooLarge, "%s uploads are limited to %s", req.Kind, formatBytes(limit.MaxBytes))
	case len(req.Filename) > MaxFilenameBytes:
		return nil, chatcore.Errorf(chatcore.EInvalid, "filename is longer than %d bytes", MaxFilenameBytes)
	}
	filename := SanitizeFilename(req.Filename)

	now := s.clock.Now()
	if ok, wait := s.limiter.Allow(userID, now); !ok {
		return nil, rateLimited(wait, "too many uploads; try again in %s", ceilSeconds(wait))
	}
	if req.ConversationID != "" {
		member, err := s.store.IsMember(ctx, req.ConversationID, userID)
		if err != nil {
			return nil, fmt.Errorf("check membership of %s: %w", req.ConversationID, err)
		}
		if !member {
			return nil, chatcore.Errorf(chatcore.ENotFound, "conversation not found")
		}
	}
	if s.cfg.DailyBytes > 0 {
		dayStart := now.UTC().Truncate(24 * time.Hour)
		used, err := s.store.UploadedBytesSince(ctx, userID, dayStart)
		if err != nil {
			return nil, fmt.Errorf("daily upload bytes of %s: %w", userID, err)
		}
		if used+req.Size > s.cfg.DailyBytes {
			wait := dayStart.Add(24 * time.Hour).Sub(now)
			return nil, rateLimited(wait, "daily upload quota of %s reached; it resets at 00:00 UTC", formatBytes(s.cfg.DailyBytes))
		}
	}

	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new upload id: %w", err)
	}
	key, err := newObjectKey(s.cfg.KeyPrefix, now)
	if err != nil {
		return nil, err
	}
	a := &chatcore.Attachment{
		ID:             id.String(),
		UploaderID:     userID,
		Kind:           req.Kind,
		Status:         chatcore.StatusPending,
		ContentType:    contentType,
		Size:           req.Size,
		Filename:       filename,
		ObjectKey:      key,
		ConversationID: req.ConversationID,
		CreatedAt:      now,
		UpdatedAt:      now,
		ExpiresAt:      now.Add(s.cfg.URLTTL + s.cfg.PendingGrace),
	}
	if s.multipart(req.Size) {
		return s.createMultipart(ctx, a)
	}
	// The URL writes next to the original, never to it: complete moves
	// the bytes to the key no URL can write, then verifies them there.
	a.UploadKey = uploadKeyFor(key)
	p, err := s.objects.PresignUpload(ctx, a.UploadKey, UploadConstraints{ContentType: contentType, Size: req.Size, Expires: s.cfg.URLTTL})
	if err != nil {
		return nil, fmt.Errorf("presign upload %s: %w", id, err)
	}
	if err := s.store.CreateAttachment(ctx, a); err != nil {
		return nil, fmt.Errorf("create upload %s: %w", a.ID, err)
	}
	s.log.InfoContext(ctx, "upload created",
		slog.String("attachment_id", a.ID), slog.String("user_id", userID),
		slog.String("kind", string(a.Kind)), slog.String("content_type", contentType), slog.Int64("size", a.Size))
	return &chatcore.UploadTicket{
		Upload:    a,
		UploadID:  a.ID,
		Method:    p.Method,
		URL:       p.URL,
		Fields:    p.Fields,
		Headers:   p.Headers,
		ExpiresAt: p.ExpiresAt,
	}, nil
}

// checkContentType returns the declared type without parameters, lower
// case, if kind accepts it.
func (s *Service) checkContentType(kind chatcore.AttachmentKind, limit KindLimit, declared string) (string, error) {
	if strings.TrimSpace(declared) == "" {
		if mk, _ := chatcore.MediaKindOf(kind); mk.DefaultContentType != "" {
			return mk.DefaultContentType, nil
		}
		return "", chatcore.Errorf(chatcore.EInvalid, "content_type is required")
	}
	mt, _, err := mime.ParseMediaType(declared)
	if err != nil || !strings.Contains(mt, "/") {
		return "", chatcore.Errorf(chatcore.EInvalid, "content_type %q is not a media type", declared)
	}
	if !limit.allows(mt) {
		return "", chatcore.Errorf(chatcore.EUnsupported, "content type %s is not accepted for %s uploads", mt, kind)
	}
	return mt, nil
}

// CompleteUpload brings the uploaded bytes to the attachment's object key,
// which no presigned URL can write (assembling a multipart upload from the
// parts the store lists, or moving a single upload off its URL's key),
// verifies them there (they exist, have exactly the declared size, and
// their first bytes are of the declared kind) and hashes them. Bytes equal
// to a ready attachment the user may see make this one ready at once,
// sharing its objects (no job, no second object); otherwise it is marked
// processing and enqueued. A repeated call returns the attachment as it
// is. A rejected object is deleted with its attachment.
func (s *Service) CompleteUpload(ctx context.Context, userID, uploadID string) (*chatcore.Attachment, error) {
	a, err := s.store.AttachmentByID(ctx, uploadID)
	if chatcore.ErrorCode(err) == chatcore.ENotFound {
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
	}
	if err != nil {
		return nil, fmt.Errorf("complete upload %s: %w", uploadID, err)
	}
	if a.UploaderID != userID {
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
	}
	if a.Status != chatcore.StatusPending {
		// Completed before. If the queue was down the first time, a repeat
		// puts the task back now instead of waiting for the reconciler;
		// enqueueing is idempotent by attachment id, so no second job.
		if a.Status == chatcore.StatusProcessing {
			s.enqueue(ctx, a)
		}
		return a, nil
	}
	now := s.clock.Now()
	if !a.ExpiresAt.IsZero() && now.After(a.ExpiresAt) {
		// The janitor may be removing it right now; never revive it.
		s.reject(ctx, a, "expired")
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload expired; request a new one")
	}

	// Bring the bytes to a.ObjectKey, which no presigned URL can write
	// (CompleteMultipartUpload ends the upload's part URLs; a single
	// upload is moved off its URL's key), and verify them there only.
	switch {
	case a.MultipartID != "":
		if err := s.assemble(ctx, a); err != nil {
			return nil, err
		}
	case a.UploadKey != "":
		err := s.objects.Move(ctx, a.UploadKey, a.ObjectKey)
		if errors.Is(err, ErrNotExist) {
			// A complete that moved it may have failed later on.
			if _, serr := s.objects.Stat(ctx, a.ObjectKey); serr == nil {
				err = nil
			}
		}
		if errors.Is(err, ErrNotExist) {
			return nil, chatcore.Errorf(chatcore.EInvalid, "object not uploaded")
		}
		if err != nil {
			return nil, fmt.Errorf("complete upload %s: %w", a.ID, err)
		}
	}
	info, err := s.objects.Stat(ctx, a.ObjectKey)
	if errors.Is(err, ErrNotExist) {
		return nil, chatcore.Errorf(chatcore.EInvalid, "object not uploaded")
	}
	if err != nil {
		return nil, fmt.Errorf("stat upload %s: %w", a.ID, err)
	}
	if info.Size != a.Size {
		s.reject(ctx, a, "size_mismatch", slog.Int64("declared", a.Size), slog.Int64("stored", info.Size))
		return nil, chatcore.Errorf(chatcore.EUnprocessable, "uploaded %d bytes, declared %d; upload again", info.Size, a.Size)
	}
	head, err := s.objects.ReadHead(ctx, a.ObjectKey, pipeline.SniffLen)
	if errors.Is(err, ErrNotExist) {
		return nil, chatcore.Errorf(chatcore.EInvalid, "object not uploaded")
	}
	if err != nil {
		return nil, fmt.Errorf("read head of upload %s: %w", a.ID, err)
	}
	sniffed, _ := pipeline.Sniff(head)
	mk, _ := chatcore.MediaKindOf(a.Kind)
	if !pipeline.Compatible(sniffed, pipeline.Kind(mk.Pipeline)) {
		s.reject(ctx, a, "kind_mismatch", slog.String("sniffed", sniffed))
		return nil, chatcore.Errorf(chatcore.EUnprocessable, "the file is %s, not a valid %s upload", sniffed, a.Kind)
	}

	sum, err := s.hash(ctx, a)
	if err != nil {
		return nil, err
	}
	a.SHA256 = sum
	a.ContentType = sniffed
	if done, err := s.dedup(ctx, a); done != nil || err != nil {
		return done, err
	}
	a.Status = chatcore.StatusProcessing
	a.UpdatedAt = now
	a.Variants = map[string]chatcore.Variant{
		chatcore.VariantOriginal: {Key: a.ObjectKey, ContentType: sniffed, Size: info.Size},
	}
	if err := s.store.UpdateAttachment(ctx, a); err != nil {
		return nil, fmt.Errorf("complete upload %s: %w", a.ID, err)
	}
	s.log.InfoContext(ctx, "upload completed",
		slog.String("attachment_id", a.ID), slog.String("user_id", userID),
		slog.String("kind", string(a.Kind)), slog.String("content_type", sniffed), slog.Int64("size", a.Size))
	s.enqueue(ctx, a)
	return a, nil
}

// enqueue hands a to the workers. The row is the source of truth: if the
// queue is down, the attachment stays processing and a repeated complete
// or the workers' reconciler enqueues it later.
func (s *Service) enqueue(ctx context.Context, a *chatcore.Attachment) {
	if s.cfg.Enqueuer == nil {
		return
	}
	if err := s.cfg.Enqueuer.EnqueueAttachment(ctx, a); err != nil {
		s.log.ErrorContext(ctx, "enqueue attachment",
			slog.String("attachment_id", a.ID), slog.Any("error", err))
	}
}

// reject deletes a pending upload's object and row; failures are logged
// (the janitor retries expired rows).
func (s *Service) reject(ctx context.Context, a *chatcore.Attachment, reason string, attrs ...slog.Attr) {
	attrs = append([]slog.Attr{slog.String("attachment_id", a.ID), slog.String("reason", reason)}, attrs...)
	s.log.LogAttrs(ctx, slog.LevelInfo, "upload rejected", attrs...)
	if err := deletePending(ctx, s.store, s.objects, a); err != nil {
		s.log.ErrorContext(ctx, "delete rejected upload", slog.String("attachment_id", a.ID), slog.Any("error", err))
	}
}

// deletePending aborts a pending upload's multipart upload and removes its
// objects, then its row.
func deletePending(ctx context.Context, store chatcore.AttachmentStore, objects ObjectStore, a *chatcore.Attachment) error {
	if a.MultipartID != "" {
		if err := objects.AbortMultipart(ctx, a.ObjectKey, a.MultipartID); err != nil {
			return fmt.Errorf("abort multipart upload of %s: %w", a.ID, err)
		}
	}
	for _, k := range []string{a.UploadKey, a.ObjectKey} {
		if k == "" {
			continue
		}
		if err := objects.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete object of %s: %w", a.ID, err)
		}
	}
	if err := store.DeleteAttachment(ctx, a.ID); err != nil && chatcore.ErrorCode(err) != chatcore.ENotFound {
		return fmt.Errorf("delete attachment %s: %w", a.ID, err)
	}
	return nil
}

// Attachment returns the attachment if userID uploaded it or is a member
// of a conversation with a message that carries it; ENotFound otherwise.
func (s *Service) Attachment(ctx context.Context, userID, id string) (*chatcore.Attachment, error) {
	ok, err := s.store.CanAccessAttachment(ctx, id, userID)
	if err != nil {
		return nil, fmt.Errorf("access to attachment %s: %w", id, err)
	}
	if !ok {
		return nil, chatcore.Errorf(chatcore.ENotFound, "attachment not found")
	}
	a, err := s.store.AttachmentByID(ctx, id)
	if chatcore.ErrorCode(err) == chatcore.ENotFound {
		return nil, chatcore.Errorf(chatcore.ENotFound, "attachment not found")
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %s: %w", id, err)
	}
	return a, nil
}

// DownloadURL returns a presigned GET, valid for DownloadTTL, for a variant
// the attachment has ("original" once completed); ENotFound unless userID
// may see the attachment and the variant exists.
func (s *Service) DownloadURL(ctx context.Context, userID, id, variant string) (string, error) {
	a, err := s.Attachment(ctx, userID, id)
	if err != nil {
		return "", err
	}
	v, ok := a.Variants[variant]
	if !ok || v.Key == "" || a.Status == chatcore.StatusPending || a.Status == chatcore.StatusExpired {
		return "", chatcore.Errorf(chatcore.ENotFound, "attachment has no %q variant", variant)
	}
	u, err := s.objects.PresignDownload(ctx, v.Key, s.cfg.DownloadTTL, downloadName(a, variant, v))
	if err != nil {
		return "", fmt.Errorf("presign download of %s/%s: %w", id, variant, err)
	}
	return u, nil
}

// downloadName is the original's file name, or for a derived variant the
// same stem with the variant and its extension ("beach-preview.jpg").
func downloadName(a *chatcore.Attachment, variant string, v chatcore.Variant) string {
	name := a.Filename
	if name == "" {
		name = string(a.Kind) + "-" + a.ID
		if ext := chatcore.FileExtension(v.ContentType); ext != "" && variant == chatcore.VariantOriginal {
			name += ext
		}
	}
	if variant == chatcore.VariantOriginal {
		return name
	}
	stem := strings.TrimSuffix(name, path.Ext(name))
	return stem + "-" + variant + chatcore.FileExtension(v.ContentType)
}

func rateLimited(wait time.Duration, format string, args ...any) error {
	e := chatcore.Errorf(chatcore.ERateLimited, format, args...)
	e.RetryAfter = ceilSeconds(wait)
	return e
}

// ceilSeconds rounds d up to whole seconds (Retry-After counts seconds),
// at least one.
func ceilSeconds(d time.Duration) time.Duration {
	s := (d + time.Second - 1).Truncate(time.Second)
	return max(s, time.Second)
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
