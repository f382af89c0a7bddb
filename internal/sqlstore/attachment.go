package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// attachmentCols are the columns scanAttachment reads, from table alias a.
const attachmentCols = `a.id, a.uploader_id, a.kind, a.status, a.content_type, a.size, a.filename,
	a.width, a.height, a.duration_ms, a.blurhash, a.waveform, a.variants, a.error,
	a.object_key, a.conversation_id, a.created_at, a.updated_at, a.expires_at,
	a.animated, a.frame_count, a.step, a.sha256, a.forwarded_from, a.upload_key, a.multipart_id, a.part_size`

// variantJSON is how a Variant is stored: unlike its API form it keeps the
// object key.
type variantJSON struct {
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
}

func encodeVariants(vs map[string]chatcore.Variant) (string, error) {
	if vs == nil {
		return "null", nil
	}
	m := make(map[string]variantJSON, len(vs))
	for name, v := range vs {
		m[name] = variantJSON(v)
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func decodeVariants(s string) (map[string]chatcore.Variant, error) {
	var m map[string]variantJSON
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, nil
	}
	vs := make(map[string]chatcore.Variant, len(m))
	for name, v := range m {
		vs[name] = chatcore.Variant(v)
	}
	return vs, nil
}

func scanAttachment(row interface{ Scan(...any) error }, prefix ...any) (*chatcore.Attachment, error) {
	var a chatcore.Attachment
	var waveform, variants string
	var created, updated, expires timeCol
	dest := append(prefix, &a.ID, &a.UploaderID, &a.Kind, &a.Status, &a.ContentType, &a.Size, &a.Filename,
		&a.Width, &a.Height, &a.DurationMS, &a.Blurhash, &waveform, &variants, &a.Error,
		&a.ObjectKey, &a.ConversationID, &created, &updated, &expires,
		&a.Animated, &a.FrameCount, &a.Step, &a.SHA256, &a.ForwardedFrom, &a.UploadKey, &a.MultipartID, &a.PartSize)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(waveform), &a.Waveform); err != nil {
		return nil, fmt.Errorf("attachment %s: decode waveform: %w", a.ID, err)
	}
	vs, err := decodeVariants(variants)
	if err != nil {
		return nil, fmt.Errorf("attachment %s: decode variants: %w", a.ID, err)
	}
	a.Variants = vs
	a.CreatedAt, a.UpdatedAt, a.ExpiresAt = created.T, updated.T, expires.T
	return &a, nil
}

// normalizeAttachment puts a's times in stored form and encodes its JSON columns.
func normalizeAttachment(a *chatcore.Attachment) (waveform, variants string, err error) {
	a.CreatedAt, a.UpdatedAt, a.ExpiresAt = UTC(a.CreatedAt), UTC(a.UpdatedAt), UTC(a.ExpiresAt)
	wf, err := json.Marshal(a.Waveform)
	if err != nil {
		return "", "", fmt.Errorf("encode waveform: %w", err)
	}
	vs, err := encodeVariants(a.Variants)
	if err != nil {
		return "", "", fmt.Errorf("encode variants: %w", err)
	}
	return string(wf), vs, nil
}

// CreateAttachment inserts a (times normalised in place). EConflict if the
// id exists, ENotFound if the uploader does not.
func (s *Store) CreateAttachment(ctx context.Context, a *chatcore.Attachment) error {
	waveform, variants, err := normalizeAttachment(a)
	if err != nil {
		return fmt.Errorf("create attachment: %w", err)
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO attachments (id, uploader_id, kind, status, content_type, size, filename,
	width, height, duration_ms, blurhash, waveform, variants, error,
	object_key, conversation_id, created_at, updated_at, expires_at, animated, frame_count, step, sha256, forwarded_from,
	upload_key, multipart_id, part_size)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)`,
		a.ID, a.UploaderID, string(a.Kind), string(a.Status), a.ContentType, a.Size, a.Filename,
		a.Width, a.Height, a.DurationMS, a.Blurhash, waveform, variants, a.Error,
		a.ObjectKey, a.ConversationID, s.t(a.CreatedAt), s.t(a.UpdatedAt), s.t(a.ExpiresAt),
		a.Animated, a.FrameCount, a.Step, a.SHA256, a.ForwardedFrom,
		a.UploadKey, a.MultipartID, a.PartSize)
	switch {
	case err == nil:
		return nil
	case s.d.IsUniqueViolation(err):
		return chatcore.Errorf(chatcore.EConflict, "attachment %s exists", a.ID)
	case s.d.IsForeignKeyViolation(err):
		return chatcore.Errorf(chatcore.ENotFound, "no user %s", a.UploaderID)
	default:
		return fmt.Errorf("create attachment: %w", err)
	}
}

// AttachmentByID returns ENotFound if none.
func (s *Store) AttachmentByID(ctx context.Context, id string) (*chatcore.Attachment, error) {
	a, err := scanAttachment(s.read.QueryRowContext(ctx, `SELECT `+attachmentCols+` FROM attachments a WHERE a.id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("attachment by id: %w", notFound(err, "no attachment %s", id))
	}
	return a, nil
}

// UpdateAttachment writes the mutable fields of a (times normalised in
// place). ENotFound if none.
func (s *Store) UpdateAttachment(ctx context.Context, a *chatcore.Attachment) error {
	waveform, variants, err := normalizeAttachment(a)
	if err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	res, err := s.write.ExecContext(ctx, `UPDATE attachments SET status = $2, content_type = $3, size = $4,
	width = $5, height = $6, duration_ms = $7, blurhash = $8, waveform = $9, variants = $10, error = $11,
	updated_at = $12, expires_at = $13, animated = $14, frame_count = $15, step = $16, sha256 = $17,
	object_key = $18, upload_key = $19, multipart_id = $20, part_size = $21
WHERE id = $1`,
		a.ID, string(a.Status), a.ContentType, a.Size, a.Width, a.Height, a.DurationMS, a.Blurhash,
		waveform, variants, a.Error, s.t(a.UpdatedAt), s.t(a.ExpiresAt), a.Animated, a.FrameCount, a.Step, a.SHA256,
		a.ObjectKey, a.UploadKey, a.MultipartID, a.PartSize)
	if err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	return mustAffect(res, "no attachment %s", a.ID)
}

// CanAccessAttachment reports whether userID uploaded the attachment or is
// a member of a conversation with a message that carries it, or whether
// it is someone's current avatar (profile pictures are seen by everyone
// who sees the user).
func (s *Store) CanAccessAttachment(ctx context.Context, id, userID string) (bool, error) {
	var ok bool
	err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM attachments WHERE id = $1 AND uploader_id = $2)
	OR EXISTS (SELECT 1 FROM message_attachments ma JOIN members m ON m.conversation_id = ma.conversation_id
		WHERE ma.attachment_id = $1 AND m.user_id = $2)
	OR EXISTS (SELECT 1 FROM users WHERE avatar_id = $1)`, id, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("can access attachment: %w", err)
	}
	return ok, nil
}

// AttachmentConversationIDs returns the conversations with messages that
// carry the attachment, sorted.
func (s *Store) AttachmentConversationIDs(ctx context.Context, id string) ([]string, error) {
	ids, err := scanStrings(s.read.QueryContext(ctx,
		`SELECT DISTINCT conversation_id FROM message_attachments WHERE attachment_id = $1 ORDER BY conversation_id`, id))
	if err != nil {
		return nil, fmt.Errorf("attachment conversation ids: %w", err)
	}
	return ids, nil
}

// ListAttachments returns up to limit (default 100, at most 1000)
// attachments in status with updated_at before `before`, oldest first by
// (updated_at, id), continuing past after when it is not nil.
func (s *Store) ListAttachments(ctx context.Context, status chatcore.AttachmentStatus, before time.Time, after *chatcore.Attachment, limit int) ([]*chatcore.Attachment, error) {
	// Without a cursor, start before the oldest possible row.
	afterAt, afterID := time.Unix(0, 0).UTC(), ""
	if after != nil {
		afterAt, afterID = UTC(after.UpdatedAt), after.ID
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+attachmentCols+` FROM attachments a
WHERE a.status = $1 AND a.updated_at < $2 AND (a.updated_at > $3 OR (a.updated_at = $3 AND a.id > $4))
ORDER BY a.updated_at, a.id LIMIT $5`,
		string(status), s.t(UTC(before)), s.t(afterAt), afterID, clampLimit(limit, 100, 1000))
	if err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	defer rows.Close()
	out := []*chatcore.Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("list attachments: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return out, nil
}

// queryAttachments runs a SELECT of attachmentCols and scans every row.
func (s *Store) queryAttachments(ctx context.Context, what, query string, args ...any) ([]*chatcore.Attachment, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []*chatcore.Attachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// ListUploadLeftovers returns up to limit (default 100, at most 1000)
// attachments past pending whose upload_key is set and whose expires_at is
// before `before`, oldest first.
func (s *Store) ListUploadLeftovers(ctx context.Context, before time.Time, limit int) ([]*chatcore.Attachment, error) {
	return s.queryAttachments(ctx, "list upload leftovers", `SELECT `+attachmentCols+` FROM attachments a
WHERE a.upload_key <> '' AND a.status <> 'pending' AND a.expires_at < $1
ORDER BY a.expires_at, a.id LIMIT $2`, s.t(UTC(before)), clampLimit(limit, 100, 1000))
}

// ReadyBySHA256 returns up to limit (default 10, at most 100) ready
// attachments of kind with the digest, newest first.
func (s *Store) ReadyBySHA256(ctx context.Context, sha256 string, kind chatcore.AttachmentKind, limit int) ([]*chatcore.Attachment, error) {
	if sha256 == "" {
		return []*chatcore.Attachment{}, nil
	}
	return s.queryAttachments(ctx, "ready by sha256", `SELECT `+attachmentCols+` FROM attachments a
WHERE a.sha256 = $1 AND a.sha256 <> '' AND a.kind = $2 AND a.status = $3
ORDER BY a.created_at DESC, a.id DESC LIMIT $4`, sha256, string(kind), string(chatcore.StatusReady), clampLimit(limit, 10, 100))
}

// ListAttachmentsAtStep returns up to limit (default 100, at most 1000)
// attachments whose step is step and updated_at before `before`, oldest
// first by (updated_at, id), continuing past after when it is not nil.
func (s *Store) ListAttachmentsAtStep(ctx context.Context, step string, before time.Time, after *chatcore.Attachment, limit int) ([]*chatcore.Attachment, error) {
	if step == "" {
		return nil, chatcore.Errorf(chatcore.EInvalid, "step is required")
	}
	afterAt, afterID := time.Unix(0, 0).UTC(), ""
	if after != nil {
		afterAt, afterID = UTC(after.UpdatedAt), after.ID
	}
	return s.queryAttachments(ctx, "list attachments at step", `SELECT `+attachmentCols+` FROM attachments a
WHERE a.step = $1 AND a.step <> '' AND a.updated_at < $2 AND (a.updated_at > $3 OR (a.updated_at = $3 AND a.id > $4))
ORDER BY a.updated_at, a.id LIMIT $5`, step, s.t(UTC(before)), s.t(afterAt), afterID, clampLimit(limit, 100, 1000))
}

// DeleteAttachment removes an attachment row that no message carries
// (meant for pending uploads that expired or failed verification).
// ENotFound if none; EConflict if a message carries it.
func (s *Store) DeleteAttachment(ctx context.Context, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM attachments WHERE id = $1`, id)
	if s.d.IsForeignKeyViolation(err) {
		return chatcore.Errorf(chatcore.EConflict, "attachment %s is carried by a message", id)
	}
	if err != nil {
		return fmt.Errorf("delete attachment: %w", err)
	}
	return mustAffect(res, "no attachment %s", id)
}

// UploadedBytesSince sums the declared sizes of userID's attachments
// created at or after since; forwarded ones uploaded nothing and do not count.
func (s *Store) UploadedBytesSince(ctx context.Context, userID string, since time.Time) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx,
		`SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM attachments WHERE uploader_id = $1 AND created_at >= $2 AND forwarded_from = ''`,
		userID, s.t(UTC(since))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("uploaded bytes since: %w", err)
	}
	return n, nil
}

// ObjectRefs counts the attachments that are not expired and whose
// original is objectKey (forwarded copies share their source's objects).
func (s *Store) ObjectRefs(ctx context.Context, objectKey string) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE object_key = $1 AND status <> $2`,
		objectKey, string(chatcore.StatusExpired)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("object refs: %w", err)
	}
	return n, nil
}
