package upload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/chatcore"
)

// uploadKeyFor is where a single upload's URL writes: next to the
// original, so deleting the upload's directory deletes both.
func uploadKeyFor(objectKey string) string { return path.Dir(objectKey) + "/upload" }

// multipart reports whether an upload of size bytes is multipart.
func (s *Service) multipart(size int64) bool {
	return s.cfg.MultipartThreshold > 0 && size > s.cfg.MultipartThreshold
}

// partSizeFor is the configured part size, grown (to whole MiB) when size
// would otherwise need more than MaxPartCount parts.
func (s *Service) partSizeFor(size int64) int64 {
	ps := s.cfg.PartSize
	if need := (size + MaxPartCount - 1) / MaxPartCount; need > ps {
		ps = (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return ps
}

// partCount is how many parts of partSize make size bytes.
func partCount(size, partSize int64) int {
	if partSize <= 0 {
		return 0
	}
	return int((size + partSize - 1) / partSize)
}

// partLen is the exact length of part number n (1-based): partSize but
// for the last, which holds the rest. Together they make exactly size.
func partLen(size, partSize int64, n int) int64 {
	if last := partCount(size, partSize); n == last {
		return size - int64(last-1)*partSize
	}
	return partSize
}

// createMultipart starts the store's multipart upload for a, records a
// and returns a ticket with a URL for every part.
func (s *Service) createMultipart(ctx context.Context, a *chatcore.Attachment) (*chatcore.UploadTicket, error) {
	a.PartSize = s.partSizeFor(a.Size)
	id, err := s.objects.NewMultipart(ctx, a.ObjectKey, a.ContentType)
	if err != nil {
		return nil, fmt.Errorf("create upload %s: %w", a.ID, err)
	}
	a.MultipartID = id
	if err := s.store.CreateAttachment(ctx, a); err != nil {
		if aerr := s.objects.AbortMultipart(ctx, a.ObjectKey, id); aerr != nil {
			err = errors.Join(err, aerr)
		}
		return nil, fmt.Errorf("create upload %s: %w", a.ID, err)
	}
	n := partCount(a.Size, a.PartSize)
	numbers := make([]int, n)
	for i := range numbers {
		numbers[i] = i + 1
	}
	t, err := s.partTicket(ctx, a, numbers)
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "multipart upload created",
		slog.String("attachment_id", a.ID), slog.String("user_id", a.UploaderID),
		slog.String("kind", string(a.Kind)), slog.String("content_type", a.ContentType),
		slog.Int64("size", a.Size), slog.Int64("part_size", a.PartSize), slog.Int("parts", n))
	return t, nil
}

// partTicket presigns a PUT for each of numbers.
func (s *Service) partTicket(ctx context.Context, a *chatcore.Attachment, numbers []int) (*chatcore.UploadTicket, error) {
	t := &chatcore.UploadTicket{Upload: a, UploadID: a.ID, PartSize: a.PartSize, Parts: make([]chatcore.UploadPart, 0, len(numbers))}
	for _, n := range numbers {
		p, err := s.objects.PresignPart(ctx, a.ObjectKey, a.MultipartID, n, partLen(a.Size, a.PartSize, n), s.cfg.URLTTL)
		if err != nil {
			return nil, fmt.Errorf("presign part %d of %s: %w", n, a.ID, err)
		}
		t.Parts = append(t.Parts, chatcore.UploadPart{Number: n, URL: p.URL, Headers: p.Headers, ExpiresAt: p.ExpiresAt})
		if t.ExpiresAt.IsZero() || p.ExpiresAt.Before(t.ExpiresAt) {
			t.ExpiresAt = p.ExpiresAt
		}
	}
	return t, nil
}

// ownUpload loads upload id of userID; ENotFound for anyone else's.
func (s *Service) ownUpload(ctx context.Context, userID, id string) (*chatcore.Attachment, error) {
	a, err := s.store.AttachmentByID(ctx, id)
	if chatcore.ErrorCode(err) == chatcore.ENotFound {
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
	}
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	if a.UploaderID != userID {
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
	}
	return a, nil
}

// UploadStatus implements chatcore.UploadService: for a pending multipart
// upload, the parts the store holds (ListParts) and those still to send.
func (s *Service) UploadStatus(ctx context.Context, userID, id string) (*chatcore.UploadStatus, error) {
	a, err := s.ownUpload(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	st := &chatcore.UploadStatus{Upload: a, UploadID: a.ID, Multipart: a.MultipartID != "",
		Parts: []chatcore.UploadPart{}, Missing: []int{}}
	if !st.Multipart {
		return st, nil
	}
	st.PartSize, st.PartCount = a.PartSize, partCount(a.Size, a.PartSize)
	if a.Status != chatcore.StatusPending {
		return st, nil
	}
	stored, err := s.storedParts(ctx, a)
	if err != nil {
		return nil, err
	}
	for n := 1; n <= st.PartCount; n++ {
		if p, ok := stored[n]; ok {
			st.Parts = append(st.Parts, chatcore.UploadPart{Number: n, Size: p.Size})
			if p.Size == partLen(a.Size, a.PartSize, n) {
				continue
			}
		}
		st.Missing = append(st.Missing, n)
	}
	return st, nil
}

// storedParts lists a's parts by number.
func (s *Service) storedParts(ctx context.Context, a *chatcore.Attachment) (map[int]Part, error) {
	parts, err := s.objects.ListParts(ctx, a.ObjectKey, a.MultipartID)
	if errors.Is(err, ErrNoUpload) {
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload expired; request a new one")
	}
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", a.ID, err)
	}
	m := make(map[int]Part, len(parts))
	for _, p := range parts {
		m[p.Number] = p
	}
	return m, nil
}

// PartURLs implements chatcore.UploadService: fresh URLs for parts of a
// pending multipart upload, which also keeps the upload from the janitor
// for another URL TTL and grace (up to MultipartMaxAge from its creation).
func (s *Service) PartURLs(ctx context.Context, userID, id string, numbers []int) (*chatcore.UploadTicket, error) {
	a, err := s.ownUpload(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if a.MultipartID == "" {
		return nil, chatcore.Errorf(chatcore.EInvalid, "upload %s is not multipart; request a new upload", id)
	}
	if a.Status != chatcore.StatusPending {
		return nil, chatcore.Errorf(chatcore.EInvalid, "upload %s is %s; its parts are complete", id, a.Status)
	}
	n := partCount(a.Size, a.PartSize)
	if len(numbers) == 0 || len(numbers) > n {
		return nil, chatcore.Errorf(chatcore.EInvalid, "numbers must list 1 to %d part numbers", n)
	}
	seen := make(map[int]bool, len(numbers))
	for _, num := range numbers {
		if num < 1 || num > n {
			return nil, chatcore.Errorf(chatcore.EInvalid, "part number %d is outside 1..%d", num, n)
		}
		if seen[num] {
			return nil, chatcore.Errorf(chatcore.EInvalid, "part number %d is listed twice", num)
		}
		seen[num] = true
	}
	now := s.clock.Now()
	deadline := a.CreatedAt.Add(s.cfg.MultipartMaxAge)
	if now.After(a.ExpiresAt) || now.Add(s.cfg.URLTTL).After(deadline) {
		return nil, chatcore.Errorf(chatcore.EInvalid, "upload %s is too old to continue (%s at most); request a new one", id, s.cfg.MultipartMaxAge)
	}
	a.ExpiresAt = now.Add(s.cfg.URLTTL + s.cfg.PendingGrace)
	if a.ExpiresAt.After(deadline) {
		a.ExpiresAt = deadline
	}
	a.UpdatedAt = now
	if err := s.store.UpdateAttachment(ctx, a); err != nil {
		return nil, fmt.Errorf("extend upload %s: %w", id, err)
	}
	return s.partTicket(ctx, a, numbers)
}

// assemble completes a's multipart upload with the ETags the store lists
// (never a client's), once every part is there with its exact length.
func (s *Service) assemble(ctx context.Context, a *chatcore.Attachment) error {
	stored, err := s.objects.ListParts(ctx, a.ObjectKey, a.MultipartID)
	if errors.Is(err, ErrNoUpload) {
		// An earlier complete assembled it and failed later on.
		if _, serr := s.objects.Stat(ctx, a.ObjectKey); serr == nil {
			return nil
		}
		s.reject(ctx, a, "multipart_gone")
		return chatcore.Errorf(chatcore.ENotFound, "upload expired; request a new one")
	}
	if err != nil {
		return fmt.Errorf("list parts of %s: %w", a.ID, err)
	}
	byNumber := make(map[int]Part, len(stored))
	for _, p := range stored {
		byNumber[p.Number] = p
	}
	n := partCount(a.Size, a.PartSize)
	parts := make([]Part, 0, n)
	var missing []string
	for i := 1; i <= n; i++ {
		p, ok := byNumber[i]
		if !ok || p.Size != partLen(a.Size, a.PartSize, i) {
			missing = append(missing, strconv.Itoa(i))
			continue
		}
		parts = append(parts, p)
	}
	if len(missing) > 0 {
		if len(missing) > 20 {
			missing = append(missing[:20], "…")
		}
		return chatcore.Errorf(chatcore.EInvalid, "parts %s are missing or incomplete; send them, then complete again", strings.Join(missing, ", "))
	}
	err = s.objects.CompleteMultipart(ctx, a.ObjectKey, a.MultipartID, parts)
	if errors.Is(err, ErrPartChanged) {
		return chatcore.Errorf(chatcore.EConflict, "a part was sent again while completing; complete again")
	}
	if err != nil {
		return fmt.Errorf("assemble upload %s: %w", a.ID, err)
	}
	return nil
}

// hash returns the hex SHA-256 of a's verified object, reading at most
// its declared size.
func (s *Service) hash(ctx context.Context, a *chatcore.Attachment) (string, error) {
	rc, err := s.objects.Open(ctx, a.ObjectKey)
	if err != nil {
		return "", fmt.Errorf("hash upload %s: %w", a.ID, err)
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(rc, a.Size)); err != nil {
		return "", fmt.Errorf("hash upload %s: %w", a.ID, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// dedup makes a ready at once when a ready attachment that the uploader
// may see (their own, or one carried in a conversation they are in) has
// the same bytes: a shares its objects and the uploaded copy is deleted.
// It returns nil, nil when there is none.
func (s *Service) dedup(ctx context.Context, a *chatcore.Attachment) (*chatcore.Attachment, error) {
	cands, err := s.store.ReadyBySHA256(ctx, a.SHA256, a.Kind, 10)
	if err != nil {
		return nil, fmt.Errorf("dedup %s: %w", a.ID, err)
	}
	for _, src := range cands {
		if src.ID == a.ID || src.Step != "" || src.ObjectKey == a.ObjectKey {
			continue
		}
		ok, err := s.store.CanAccessAttachment(ctx, src.ID, a.UploaderID)
		if err != nil {
			return nil, fmt.Errorf("dedup %s: %w", a.ID, err)
		}
		if !ok {
			continue
		}
		own := a.ObjectKey
		done := *a
		done.Status, done.Step, done.Error = chatcore.StatusReady, "", ""
		done.ObjectKey = src.ObjectKey
		done.ContentType = src.ContentType
		done.Width, done.Height, done.DurationMS = src.Width, src.Height, src.DurationMS
		done.Blurhash, done.Waveform = src.Blurhash, slices.Clone(src.Waveform)
		done.Animated, done.FrameCount = src.Animated, src.FrameCount
		done.Variants = make(map[string]chatcore.Variant, len(src.Variants))
		for k, v := range src.Variants {
			done.Variants[k] = v
		}
		done.UpdatedAt = s.clock.Now()
		if err := s.store.UpdateAttachment(ctx, &done); err != nil {
			return nil, fmt.Errorf("dedup %s: %w", a.ID, err)
		}
		// The source may have expired meanwhile (its objects going once no
		// row refers to them): then keep our own bytes and process them.
		if cur, err := s.store.AttachmentByID(ctx, src.ID); err != nil || cur.Status != chatcore.StatusReady {
			if err := s.store.UpdateAttachment(ctx, a); err != nil {
				return nil, fmt.Errorf("dedup %s: undo: %w", a.ID, err)
			}
			return nil, nil
		}
		if err := s.objects.Delete(ctx, own); err != nil {
			s.log.WarnContext(ctx, "delete deduplicated upload", slog.String("attachment_id", a.ID), slog.Any("error", err))
		}
		s.log.InfoContext(ctx, "upload completed as a duplicate",
			slog.String("attachment_id", a.ID), slog.String("same_as", src.ID),
			slog.String("kind", string(a.Kind)), slog.Int64("size", a.Size))
		return &done, nil
	}
	return nil, nil
}
