package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Defaults for zero fields of Config.
const (
	DefaultURLTTL           = 10 * time.Minute
	MaxURLTTL               = 15 * time.Minute
	DefaultDownloadTTL      = 5 * time.Minute
	MaxDownloadTTL          = 5 * time.Minute
	DefaultPendingGrace     = time.Hour
	DefaultUploadsPerMinute = 30
	DefaultUploadBurst      = 10
	DefaultDailyBytes       = 2 << 30 // 2 GiB
	DefaultKeyPrefix        = "uploads/"

	// DefaultMultipartThreshold: larger uploads are multipart.
	DefaultMultipartThreshold = 16 << 20
	// DefaultPartSize, MinPartSize (S3's minimum for every part but the
	// last) and MaxPartSize bound the part size; MaxPartCount bounds the
	// parts of one upload (the part size grows to stay within it).
	DefaultPartSize = 8 << 20
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
	MaxPartCount    = 1000
	// DefaultMultipartMaxAge is how long a multipart upload may be kept
	// going by asking for fresh part URLs before it must be completed.
	DefaultMultipartMaxAge = 24 * time.Hour
)

// KindLimit bounds the uploads of one attachment kind.
type KindLimit struct {
	// MaxBytes is the largest declared size accepted.
	MaxBytes int64
	// ContentTypes are the declared media types accepted (lower case, no
	// parameters). "type/*" accepts a whole top-level type and "*" any
	// type. The bytes are sniffed on complete whatever was declared.
	ContentTypes []string
}

// DefaultLimits returns the per-kind limits used for kinds Config.Limits
// leaves out, from the kind table (chatcore.MediaKinds): image ≤ 25 MiB,
// voice ≤ 16 MiB, video ≤ 512 MiB, file ≤ 100 MiB.
func DefaultLimits() map[chatcore.AttachmentKind]KindLimit {
	limits := make(map[chatcore.AttachmentKind]KindLimit)
	for _, k := range chatcore.MediaKinds() {
		limits[k.Kind] = KindLimit{MaxBytes: k.MaxBytes, ContentTypes: k.ContentTypes}
	}
	return limits
}

// Store is what the Service needs of chatcore.Store.
type Store interface {
	chatcore.AttachmentStore
	IsMember(ctx context.Context, conversationID, userID string) (bool, error)
}

// Enqueuer hands a verified attachment to the media workers. Enqueueing
// the same attachment twice must be harmless (workers use the attachment id
// as task id).
type Enqueuer interface {
	EnqueueAttachment(ctx context.Context, a *chatcore.Attachment) error
}

// Config configures a Service. Store and Objects are required; every other
// zero field means its documented default.
type Config struct {
	Store   Store
	Objects ObjectStore
	// Enqueuer receives each attachment once verified. If nil, attachments
	// stay in status processing.
	Enqueuer Enqueuer
	// Clock tells the time (expiry, rate limit, quota). If nil, the system clock.
	Clock chatcore.Clock
	// Logger. If nil, slog.Default().
	Logger *slog.Logger

	// Limits per kind. Kinds left out use DefaultLimits; within a kind, a
	// zero MaxBytes or empty ContentTypes keeps that default.
	Limits map[chatcore.AttachmentKind]KindLimit

	// URLTTL is how long a presigned upload is valid. If zero,
	// DefaultURLTTL; at most MaxURLTTL.
	URLTTL time.Duration
	// DownloadTTL is how long a presigned download is valid. If zero,
	// DefaultDownloadTTL; at most MaxDownloadTTL.
	DownloadTTL time.Duration
	// PendingGrace is how long after its URL expired an upload may still be
	// completed (a large upload started just before expiry may take a
	// while); the janitor removes pending uploads after it. If zero,
	// DefaultPendingGrace.
	PendingGrace time.Duration

	// UploadsPerMinute is the rate of CreateUpload per user, with bursts of
	// UploadBurst. If zero, DefaultUploadsPerMinute and DefaultUploadBurst;
	// negative disables the limit. The limit is kept in this process.
	UploadsPerMinute int
	UploadBurst      int
	// DailyBytes is how many declared bytes a user may upload per UTC day.
	// If zero, DefaultDailyBytes; negative disables the quota.
	DailyBytes int64

	// KeyPrefix starts every object key. If empty, DefaultKeyPrefix.
	KeyPrefix string

	// MultipartThreshold: uploads declaring more bytes are multipart
	// (resumable). If zero, DefaultMultipartThreshold; negative: never.
	MultipartThreshold int64
	// PartSize of multipart uploads. If zero, DefaultPartSize; within
	// MinPartSize..MaxPartSize.
	PartSize int64
	// MultipartMaxAge is how long after its creation a multipart upload can
	// still get fresh part URLs and be completed. If zero,
	// DefaultMultipartMaxAge.
	MultipartMaxAge time.Duration
}

// withDefaults returns c with zero fields filled and limits merged.
func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = chatcore.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	limits := DefaultLimits()
	for kind, l := range c.Limits {
		d := limits[kind]
		if l.MaxBytes > 0 {
			d.MaxBytes = l.MaxBytes
		}
		if len(l.ContentTypes) > 0 {
			d.ContentTypes = make([]string, len(l.ContentTypes))
			for i, t := range l.ContentTypes {
				d.ContentTypes[i] = strings.ToLower(strings.TrimSpace(t))
			}
		}
		limits[kind] = d
	}
	c.Limits = limits
	if c.URLTTL == 0 {
		c.URLTTL = DefaultURLTTL
	}
	if c.DownloadTTL == 0 {
		c.DownloadTTL = DefaultDownloadTTL
	}
	if c.PendingGrace == 0 {
		c.PendingGrace = DefaultPendingGrace
	}
	if c.UploadsPerMinute == 0 {
		c.UploadsPerMinute = DefaultUploadsPerMinute
		if c.UploadBurst == 0 {
			c.UploadBurst = DefaultUploadBurst
		}
	}
	if c.UploadBurst <= 0 {
		c.UploadBurst = max(1, c.UploadsPerMinute/3)
	}
	if c.DailyBytes == 0 {
		c.DailyBytes = DefaultDailyBytes
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = DefaultKeyPrefix
	}
	if c.MultipartThreshold == 0 {
		c.MultipartThreshold = DefaultMultipartThreshold
	}
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.MultipartMaxAge == 0 {
		c.MultipartMaxAge = DefaultMultipartMaxAge
	}
	return c
}

// validate reports a missing or out-of-range field of c (after defaults).
func (c Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("store is required"))
	}
	if c.Objects == nil {
		errs = append(errs, errors.New("object store is required"))
	}
	for kind, l := range c.Limits {
		if _, ok := chatcore.MediaKindOf(kind); !ok {
			errs = append(errs, fmt.Errorf("limits: unknown kind %q", kind))
		}
		for _, t := range l.ContentTypes {
			if t == "*" {
				continue
			}
			if mt, _, err := mime.ParseMediaType(t); err != nil || mt != t {
				errs = append(errs, fmt.Errorf("limits: %s: bad content type %q", kind, t))
			}
		}
	}
	if c.URLTTL < time.Second || c.URLTTL > MaxURLTTL {
		errs = append(errs, fmt.Errorf("URL TTL %v is outside 1s..%v", c.URLTTL, MaxURLTTL))
	}
	if c.DownloadTTL < time.Second || c.DownloadTTL > MaxDownloadTTL {
		errs = append(errs, fmt.Errorf("download TTL %v is outside 1s..%v", c.DownloadTTL, MaxDownloadTTL))
	}
	if c.PendingGrace < 0 {
		errs = append(errs, fmt.Errorf("pending grace %v is negative", c.PendingGrace))
	}
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		errs = append(errs, fmt.Errorf("part size %d is outside %d..%d", c.PartSize, MinPartSize, int64(MaxPartSize)))
	}
	if c.MultipartMaxAge < c.URLTTL {
		errs = append(errs, fmt.Errorf("multipart max age %v is shorter than the URL TTL %v", c.MultipartMaxAge, c.URLTTL))
	}
	if strings.HasPrefix(c.KeyPrefix, "/") || strings.Contains(c.KeyPrefix, "..") {
		errs = append(errs, fmt.Errorf("key prefix %q must be relative", c.KeyPrefix))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("upload: config: %w", err)
	}
	return nil
}

// allows reports whether the limit accepts the media type mt.
func (l KindLimit) allows(mt string) bool {
	for _, t := range l.ContentTypes {
		if t == "*" || t == mt {
			return true
		}
		if prefix, ok := strings.CutSuffix(t, "/*"); ok && strings.HasPrefix(mt, prefix+"/") {
			return true
		}
	}
	return false
}
