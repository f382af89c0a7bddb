package upload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Lifecycle forwards attachments without re-uploading them and deletes
// their objects when no attachment references them any more. Objects are
// reference-counted through attachment rows: a forwarded attachment is a
// new row with the same object key and variant keys as its source.
type Lifecycle struct {
	store   chatcore.Store
	objects ObjectStore
	clock   chatcore.Clock
}

var _ chatcore.ForwardService = (*Lifecycle)(nil)

// NewLifecycle returns the lifecycle service. clock may be nil (system clock).
func NewLifecycle(store chatcore.Store, objects ObjectStore, clock chatcore.Clock) *Lifecycle {
	if clock == nil {
		clock = chatcore.SystemClock{}
	}
	return &Lifecycle{store: store, objects: objects, clock: clock}
}

// ForwardAttachment implements chatcore.ForwardService.
func (l *Lifecycle) ForwardAttachment(ctx context.Context, userID, id, conversationID string) (*chatcore.Attachment, error) {
	if conversationID == "" {
		return nil, chatcore.Errorf(chatcore.EInvalid, "conversation_id is required")
	}
	ok, err := l.store.CanAccessAttachment(ctx, id, userID)
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", id, err)
	}
	if !ok {
		return nil, chatcore.Errorf(chatcore.ENotFound, "no attachment %s", id)
	}
	member, err := l.store.IsMember(ctx, conversationID, userID)
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", id, err)
	}
	if !member {
		return nil, chatcore.Errorf(chatcore.ENotFound, "no conversation %s", conversationID)
	}
	src, err := l.store.AttachmentByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("forward %s: %w", id, err)
	}
	if src.Status != chatcore.StatusReady {
		return nil, chatcore.Errorf(chatcore.EInvalid, "attachment %s is %s; only ready attachments can be forwarded", id, src.Status)
	}
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, fmt.Errorf("forward %s: id: %w", id, err)
	}
	now := l.clock.Now().UTC()
	fwd := *src
	fwd.ID = hex.EncodeToString(r[:])
	fwd.UploaderID = userID
	fwd.ConversationID = conversationID
	fwd.ForwardedFrom = firstNonEmptyString(src.ForwardedFrom, src.ID)
	fwd.UploadKey, fwd.MultipartID, fwd.PartSize = "", "", 0
	fwd.CreatedAt, fwd.UpdatedAt, fwd.ExpiresAt = now, now, now
	if err := l.store.CreateAttachment(ctx, &fwd); err != nil {
		return nil, fmt.Errorf("forward %s: %w", id, err)
	}
	return &fwd, nil
}

func firstNonEmptyString(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// DeleteAttachmentObjects expires attachment id and, when no other
// attachment that is not expired shares its objects, deletes its original
// and every variant from the object store. Call it when the last message
// carrying the attachment is deleted, when its uploader's account goes, or
// from retention. It is idempotent: a repeated call (after a failed
// delete, say) finishes the job; ENotFound if there is no such attachment.
func (l *Lifecycle) DeleteAttachmentObjects(ctx context.Context, id string) error {
	a, err := l.store.AttachmentByID(ctx, id)
	if err != nil {
		return fmt.Errorf("delete objects of %s: %w", id, err)
	}
	if a.Status == chatcore.StatusExpired && a.Variants == nil {
		return nil
	}
	if a.Status != chatcore.StatusExpired {
		// Expire first: from here on the row no longer counts as a
		// reference, and downloads stop.
		a.Status, a.Step, a.UpdatedAt = chatcore.StatusExpired, "", l.clock.Now().UTC()
		if err := l.store.UpdateAttachment(ctx, a); err != nil {
			return fmt.Errorf("expire %s: %w", id, err)
		}
	}
	refs, err := l.store.ObjectRefs(ctx, a.ObjectKey)
	if err != nil {
		return fmt.Errorf("delete objects of %s: %w", id, err)
	}
	if refs == 0 {
		keys := []string{a.ObjectKey}
		if a.UploadKey != "" {
			keys = append(keys, a.UploadKey)
		}
		for _, v := range a.Variants {
			if v.Key != "" && v.Key != a.ObjectKey {
				keys = append(keys, v.Key)
			}
		}
		for _, k := range keys {
			if err := l.objects.Delete(ctx, k); err != nil {
				return fmt.Errorf("delete object %s of %s: %w", k, id, err)
			}
		}
	}
	a.Variants, a.UpdatedAt = nil, l.clock.Now().UTC()
	if err := l.store.UpdateAttachment(ctx, a); err != nil {
		return fmt.Errorf("expire %s: %w", id, err)
	}
	return nil
}

// ExpireOlderThan applies a retention period: every ready or failed
// attachment last updated before cutoff goes through
// DeleteAttachmentObjects. It returns how many expired.
func (l *Lifecycle) ExpireOlderThan(ctx context.Context, cutoff time.Time, batch int, log *slog.Logger) (int, error) {
	if batch <= 0 {
		batch = DefaultJanitorBatch
	}
	n := 0
	for _, st := range []chatcore.AttachmentStatus{chatcore.StatusReady, chatcore.StatusFailed} {
		var after *chatcore.Attachment
		for {
			list, err := l.store.ListAttachments(ctx, st, cutoff, after, batch)
			if err != nil {
				return n, err
			}
			for _, a := range list {
				if err := l.DeleteAttachmentObjects(ctx, a.ID); err != nil {
					log.WarnContext(ctx, "retention: delete objects", slog.String("attachment_id", a.ID), slog.Any("error", err))
					continue
				}
				n++
			}
			if len(list) < batch {
				break
			}
			after = list[len(list)-1]
		}
	}
	return n, nil
}
