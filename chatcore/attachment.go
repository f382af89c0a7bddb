package chatcore

import (
	"context"
	"time"
)

// AttachmentStatus is where an attachment is in its life.
type AttachmentStatus string

const (
	StatusPending    AttachmentStatus = "pending"    // URL handed out, bytes not confirmed
	StatusProcessing AttachmentStatus = "processing" // verified, workers are on it
	StatusReady      AttachmentStatus = "ready"      // derived files recorded
	StatusFailed     AttachmentStatus = "failed"     // processing gave up; see Error
	// StatusExpired: its objects were deleted (retention, or the last
	// message carrying it went); metadata stays, downloads are gone.
	StatusExpired AttachmentStatus = "expired"
)

// Variant names.
const (
	VariantOriginal  = "original"
	VariantPreview   = "preview"
	VariantThumbnail = "thumbnail"
	VariantAudio     = "audio"
	VariantPoster    = "poster"
	VariantPlayback  = "playback"  // video: H.264/AAC MP4 that plays everywhere
	VariantAnimation = "animation" // animated image: silent H.264 MP4, played in a loop
)

// StepPosterReady is the Step of a ready video whose poster, duration and
// size are recorded while its playback variant is still being made.
const StepPosterReady = "poster_ready"

// Variant is one stored file of an attachment.
type Variant struct {
	Key         string `json:"-"` // object key; never shown to clients
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

// Attachment is an uploaded file and what workers derived from it.
type Attachment struct {
	ID          string             `json:"id"`
	UploaderID  string             `json:"uploader_id"`
	Kind        AttachmentKind     `json:"kind"`
	Status      AttachmentStatus   `json:"status"`
	ContentType string             `json:"content_type"`
	Size        int64              `json:"size"`
	Filename    string             `json:"filename"`
	Width       int                `json:"width,omitempty"`
	Height      int                `json:"height,omitempty"`
	DurationMS  int64              `json:"duration_ms,omitempty"`
	Blurhash    string             `json:"blurhash,omitempty"`
	Waveform    []int              `json:"waveform,omitempty"`
	Variants    map[string]Variant `json:"variants,omitempty"`
	Error       string             `json:"error,omitempty"` // reason code when failed
	// Animated is true for an animated GIF or WebP (kind image); its
	// animation variant is the MP4 to play and FrameCount its frames.
	Animated   bool `json:"animated,omitempty"`
	FrameCount int  `json:"frame_count,omitempty"`
	// Step refines a ready status: StepPosterReady while a video's
	// playback variant is made; empty when nothing more is coming.
	Step string `json:"step,omitempty"`
	// SHA256 is the hex digest of the uploaded bytes, recorded by the
	// worker; uploads of the same bytes reuse this attachment's objects.
	SHA256 string `json:"-"`
	// ForwardedFrom is the attachment whose objects a forwarded one
	// shares ("" for an upload).
	ForwardedFrom string `json:"-"`

	ObjectKey string `json:"-"` // key of the original
	// UploadKey is where a single-request upload's presigned URL writes;
	// complete copies the bytes to ObjectKey, which no URL can write, so
	// a later overwrite changes nothing anyone downloads. "" once the
	// janitor removed it (or for a multipart upload, whose parts go to
	// ObjectKey through MultipartID).
	UploadKey string `json:"-"`
	// MultipartID is the object store's multipart upload of a large
	// upload and PartSize its part size ("" and 0 for a single request).
	MultipartID    string    `json:"-"`
	PartSize       int64     `json:"-"`
	ConversationID string    `json:"conversation_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	ExpiresAt      time.Time `json:"-"` // pending uploads are removed after this
}

// AttachmentStore persists attachments.
type AttachmentStore interface {
	// CreateAttachment inserts a (status pending; all fields set by caller).
	CreateAttachment(ctx context.Context, a *Attachment) error
	// AttachmentByID returns ENotFound if none.
	AttachmentByID(ctx context.Context, id string) (*Attachment, error)
	// UpdateAttachment writes every mutable field of a (status, content type,
	// size, metadata, variants, error, updated_at) in one statement.
	UpdateAttachment(ctx context.Context, a *Attachment) error
	// CanAccessAttachment reports whether userID uploaded the attachment or
	// is a member of a conversation with a message that carries it.
	CanAccessAttachment(ctx context.Context, id, userID string) (bool, error)
	// AttachmentConversationIDs returns the conversations with messages that carry it.
	AttachmentConversationIDs(ctx context.Context, id string) ([]string, error)
	// ListAttachments returns up to limit attachments in status whose
	// updated_at is before `before`, oldest first by (updated_at, id)
	// (expired pending uploads, processing ones that look stuck). after,
	// when not nil, is the last attachment of the previous page: the list
	// continues past it.
	ListAttachments(ctx context.Context, status AttachmentStatus, before time.Time, after *Attachment, limit int) ([]*Attachment, error)
	// DeleteAttachment removes a pending attachment row. ENotFound if none.
	DeleteAttachment(ctx context.Context, id string) error
	// UploadedBytesSince sums the declared sizes of userID's attachments
	// created at or after since (the daily quota); forwarded ones do not
	// count.
	UploadedBytesSince(ctx context.Context, userID string, since time.Time) (int64, error)
	// ObjectRefs counts the attachments not expired whose original is
	// objectKey: the original and its variants are deleted when it is 0.
	ObjectRefs(ctx context.Context, objectKey string) (int, error)
	// ListUploadLeftovers returns up to limit attachments past pending
	// whose UploadKey is set and whose ExpiresAt is before `before`: their
	// upload URL has expired and the object at UploadKey can go.
	ListUploadLeftovers(ctx context.Context, before time.Time, limit int) ([]*Attachment, error)
	// ReadyBySHA256 returns up to limit ready attachments of kind whose
	// uploaded bytes have the hex digest sha256, newest first.
	ReadyBySHA256(ctx context.Context, sha256 string, kind AttachmentKind, limit int) ([]*Attachment, error)
	// ListAttachmentsAtStep is ListAttachments for the attachments of any
	// status whose Step is step (videos left at poster_ready).
	ListAttachmentsAtStep(ctx context.Context, step string, before time.Time, after *Attachment, limit int) ([]*Attachment, error)
}

// ForwardService forwards an attachment without re-uploading it.
// Implemented by package upload. Errors: ENotFound (no such attachment, or
// userID may not see it, or is not a member of the conversation),
// EInvalid (not ready yet, or expired).
type ForwardService interface {
	// ForwardAttachment makes a new ready attachment owned by userID,
	// declared for conversationID, that shares the objects (original and
	// variants) of attachment id. No job runs and nothing is uploaded.
	ForwardAttachment(ctx context.Context, userID, id, conversationID string) (*Attachment, error)
}
