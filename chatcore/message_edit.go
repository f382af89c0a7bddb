package chatcore

import (
	"context"
	"time"
)

// MessageEditStore changes stored messages in place: edits and tombstones.
// A tombstone keeps its row and seq (a conversation's seqs never gain a
// gap); its body, mentions, location, attachment links and reactions go.
// The service and routes on top (PATCH/DELETE
// /v1/conversations/{id}/messages/{seq}) are issue 11's next slice.
type MessageEditStore interface {
	// EditMessage sets the body and edited_at of a message that is not a
	// tombstone and returns it with its attachments (which never change).
	// ENotFound if there is no such message or it is a tombstone.
	EditMessage(ctx context.Context, conversationID string, seq int64, body string, at time.Time) (*Message, error)
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
}
