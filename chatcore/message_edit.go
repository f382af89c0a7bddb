package chatcore

import (
	"context"
	"time"
)

// MessageEditStore changes stored messages in place: edits and tombstones.
// A tombstone keeps its row and seq (a conversation's seqs never gain a
// gap); its body, mentions, location, attachment links and reactions go.
// MessageEditService (message_edit_service.go) is the service on top.
type MessageEditStore interface {
	// MessageBySeq returns one message (tombstones too) with its
	// attachments. ENotFound if there is none.
	MessageBySeq(ctx context.Context, conversationID string, seq int64) (*Message, error)
	// EditMessage sets the body, mentions and edited_at of a message that
	// is not a tombstone, in one statement, and returns it with its
	// attachments (which never change). ENotFound if there is no such
	// message or it is a tombstone.
	EditMessage(ctx context.Context, conversationID string, seq int64, body string, mentions []string, at time.Time) (*Message, error)
	// DeleteMessage turns a message into a tombstone (deleted_at = at) and
	// returns it with the ids of the attachments it no longer links, so the
	// caller can delete their objects after a grace period when no other
	// message references them. Deleting a tombstone again returns it
	// unchanged with no ids. ENotFound if there is no such message.
	DeleteMessage(ctx context.Context, conversationID string, seq int64, at time.Time) (msg *Message, unlinked []string, err error)
	// TombstoneMessagesBySender turns every message senderID sent (system
	// messages excepted: they are membership history) into a tombstone,
	// for account deletion, and returns how many it changed and the ids
	// of the attachments they no longer link.
	TombstoneMessagesBySender(ctx context.Context, senderID string, at time.Time) (n int64, unlinked []string, err error)

	// ScheduleAttachmentDeletions queues attachment ids whose objects go
	// at due (a later due for an id already queued keeps the earlier).
	ScheduleAttachmentDeletions(ctx context.Context, ids []string, due time.Time) error
	// DueAttachmentDeletions returns up to limit queued ids due by now
	// that no message links any more; queued ids a message links again
	// are dropped from the queue.
	DueAttachmentDeletions(ctx context.Context, now time.Time, limit int) ([]string, error)
	// FinishAttachmentDeletion drops id from the queue.
	FinishAttachmentDeletion(ctx context.Context, id string) error
}
