package chatcore

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Change types in a sync page (SyncChange.Type).
const (
	// ChangeMessage: a message was sent, edited, deleted, reacted to, or
	// one of its attachments became ready or failed. Message is its
	// latest state (a tombstone after a delete).
	ChangeMessage = "message"
	// ChangeReceipt: a member's delivered or read position moved (the
	// caller's own included, so their other devices clear unread counts).
	ChangeReceipt = "receipt"
	// ChangeConversation: the caller joined (or created) a conversation,
	// or its title changed. Conversation is its state as the caller sees it.
	ChangeConversation = "conversation"
	// ChangeRemoved: the caller left or was removed; nothing of the
	// conversation comes after it (until they are added again).
	ChangeRemoved = "removed"
)

// SyncChange is one entry of the sync feed: the latest state of something
// that changed, at change id ID. Stores fill ID, Type and ConversationID,
// plus Message (with attachments) or Receipt; the service fills
// Conversation.
type SyncChange struct {
	ID             int64         `json:"-"`
	Type           string        `json:"type"`
	ConversationID string        `json:"conversation_id"`
	Message        *Message      `json:"message,omitempty"`
	Receipt        *Receipt      `json:"receipt,omitempty"`
	Conversation   *Conversation `json:"conversation,omitempty"`
}

// SyncStore reads the change feed that migration 0008's triggers keep.
// Change ids come from one counter (a Postgres sequence, a SQLite row) and
// are stamped by the database on every write a member must learn about.
type SyncStore interface {
	// SyncHead returns the last change id handed out (0 when none).
	SyncHead(ctx context.Context) (int64, error)
	// SyncChanges returns userID's changes with change id > since, oldest
	// first, at most limit (and whether more follow): messages in the
	// conversations they belong to (since they joined) or belonged to
	// (until they left), receipts of members of their conversations,
	// conversations joined or renamed, and their own departures. EGone when
	// since is below the horizon PruneSync raised.
	SyncChanges(ctx context.Context, userID string, since int64, limit int) (changes []SyncChange, more bool, err error)
	// MarkSync records that by time at the counter stood at its current
	// value. Marks at the same instant are kept once.
	MarkSync(ctx context.Context, at time.Time) error
	// SyncFloor returns a change id F such that every change id allocated
	// within lag before change id x was handed out is above F: the largest
	// mark at least lag older than the newest mark below x, or the
	// horizon when there is none.
	SyncFloor(ctx context.Context, x int64, lag time.Duration) (int64, error)
	// PruneSync drops marks older than before and the departures they
	// cover, and raises the horizon to the newest dropped mark: cursors
	// below it get EGone. It returns the horizon.
	PruneSync(ctx context.Context, before time.Time) (horizon int64, err error)
}

// Cursor is a position in a user's sync feed, opaque to clients. X is the
// last change id the client has; F <= X is a floor: changes above F may
// still have been committing when the cursor was made, so a resume serves
// again from F (clients apply changes by id, latest state wins, so a change
// seen twice is harmless).
//
//	Mode 'r' resume: a sync page that ended; serve change ids > F.
//	Mode 'p' page: has_more was true; serve change ids > X, carry F.
//	Mode 'l' live: from a WebSocket frame; F is found from X (SyncFloor).
type Cursor struct {
	X, F int64
	Mode byte
}

// cursorPrefix versions the encoding.
const cursorPrefix = "s1"

// String encodes c as an opaque URL-safe string.
func (c Cursor) String() string {
	var raw string
	if c.Mode == 'l' {
		raw = fmt.Sprintf("%s.l.%d", cursorPrefix, c.X)
	} else {
		raw = fmt.Sprintf("%s.%c.%d.%d", cursorPrefix, c.Mode, c.X, c.F)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// LiveCursor is the cursor a WebSocket frame carries for change id x; ""
// for 0 (a store that stamped nothing).
func LiveCursor(x int64) string {
	if x <= 0 {
		return ""
	}
	return Cursor{X: x, Mode: 'l'}.String()
}

// maxCursorLen bounds what ParseCursor decodes.
const maxCursorLen = 128

// ParseCursor decodes a cursor. Anything malformed is EGone: the client
// cannot use it and must start again as a fresh device.
func ParseCursor(s string) (Cursor, error) {
	bad := Errorf(EGone, "sync cursor is not valid here; start again without one")
	if s == "" || len(s) > maxCursorLen {
		return Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	parts := strings.Split(string(b), ".")
	if len(parts) < 3 || parts[0] != cursorPrefix || len(parts[1]) != 1 {
		return Cursor{}, bad
	}
	c := Cursor{Mode: parts[1][0]}
	num := func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil && n >= 0 && strconv.FormatInt(n, 10) == s
	}
	var ok bool
	switch {
	case c.Mode == 'l' && len(parts) == 3:
		c.X, ok = num(parts[2])
		ok = ok && c.X > 0
	case (c.Mode == 'r' || c.Mode == 'p') && len(parts) == 4:
		var okF bool
		c.X, ok = num(parts[2])
		c.F, okF = num(parts[3])
		ok = ok && okF && c.F <= c.X
	}
	// Only the one encoding String makes (the decoder would skip line
	// breaks and ignore trailing bits).
	if !ok || c.String() != s {
		return Cursor{}, bad
	}
	return c, nil
}
