package chatcore

import (
	"context"
	"log/slog"
	"time"
)

// Sync timing. A change id is handed out before its transaction commits,
// so a change with a lower id can become visible after one with a higher
// id. SyncCommitLag bounds how long that takes (sends, edits and receipts
// are single short statements); a resumed cursor serves again the changes
// handed out within that time before it, found through marks each node
// records every SyncMarkInterval.
const (
	SyncCommitLag        = 10 * time.Second
	SyncMarkInterval     = 2 * time.Second
	DefaultSyncRetention = 30 * 24 * time.Hour
	syncPruneInterval    = time.Hour
	// syncFloorLag is what SyncFloor is asked for: the commit lag plus one
	// mark interval, since a mark is filed under the end of its slot.
	syncFloorLag = SyncCommitLag + SyncMarkInterval
)

// SyncResult is one page of the sync feed.
type SyncResult struct {
	// Changes are oldest first, one per changed thing (its latest state).
	// Empty for a fresh device.
	Changes []SyncChange `json:"changes"`
	// Conversations is set for a fresh device only (no cursor given): the
	// caller's conversations, newest activity first, each with its last
	// message and unread count.
	Conversations []*Conversation `json:"conversations,omitempty"`
	// Cursor continues the feed after this page (opaque).
	Cursor string `json:"cursor"`
	// HasMore: call again at once with Cursor. For a fresh device: more
	// conversations than listed (page them with GET /v1/conversations).
	HasMore bool `json:"has_more"`
}

// SyncService is the one feed of every change a member must learn about.
type SyncService interface {
	// Sync returns callerID's changes after cursor, oldest first, at most
	// limit; with cursor "" (a fresh device) their conversation list and
	// a cursor to continue from. Errors: EGone (a cursor that is
	// malformed, from another server, or older than the retention: start
	// again without one), EInvalid (negative limit).
	Sync(ctx context.Context, callerID, cursor string, limit int) (*SyncResult, error)
}

// syncService implements SyncService.
type syncService struct {
	*deps
	retention time.Duration
}

func (s *syncService) Sync(ctx context.Context, callerID, cursor string, limit int) (*SyncResult, error) {
	limit, err := pageLimit(limit, DefaultSyncPage, MaxSyncPage)
	if err != nil {
		return nil, err
	}
	var c Cursor
	if cursor != "" {
		if c, err = ParseCursor(cursor); err != nil {
			return nil, err
		}
	}
	head, err := s.store.SyncHead(ctx)
	if err != nil {
		return nil, internalError("sync", err)
	}
	// Every change above floorNow may still be committing.
	floorNow, err := s.store.SyncFloor(ctx, head+1, syncFloorLag)
	if err != nil {
		return nil, internalError("sync", err)
	}
	if cursor == "" {
		return s.fresh(ctx, callerID, head, floorNow, limit)
	}
	horizon, err := s.store.SyncFloor(ctx, 0, 0) // no mark is below 0: the horizon
	if err != nil {
		return nil, internalError("sync", err)
	}
	switch {
	case c.X > head:
		return nil, Errorf(EGone, "sync cursor was not issued by this server; start again without one")
	case c.X < horizon:
		return nil, Errorf(EGone, "sync cursor is too old; start again without one")
	}
	from, carry := c.F, floorNow
	switch c.Mode {
	case 'l':
		if from, err = s.store.SyncFloor(ctx, c.X, syncFloorLag); err != nil {
			return nil, internalError("sync", err)
		}
	case 'p':
		from, carry = c.X, c.F
	}
	from = max(from, horizon) // below it, everything was committed long ago
	changes, more, err := s.store.SyncChanges(ctx, callerID, from, limit)
	if err != nil {
		return nil, internalError("sync", err, slog.String("user_id", callerID))
	}
	last := c.X
	if n := len(changes); n > 0 {
		last = max(last, changes[n-1].ID)
	}
	var msgs []*Message
	for _, ch := range changes {
		if ch.Message != nil {
			msgs = append(msgs, ch.Message)
		}
	}
	if err := s.flagBlockedSenders(ctx, callerID, msgs); err != nil {
		return nil, internalError("sync", err, slog.String("user_id", callerID))
	}
	if err := s.details(ctx, msgs, callerID, "sync"); err != nil { // reactions, reply_to
		return nil, err
	}
	out := make([]SyncChange, 0, len(changes))
	for _, ch := range changes {
		if ch.Type == ChangeConversation {
			conv, err := s.store.ConversationForUser(ctx, ch.ConversationID, callerID)
			if ErrorCode(err) == ENotFound {
				continue // left meanwhile: the departure comes next time
			}
			if err != nil {
				return nil, internalError("sync", err, slog.String("conversation_id", ch.ConversationID))
			}
			if err := s.hideBlockedReceipts(ctx, callerID, conv); err != nil {
				return nil, err
			}
			ch.Conversation = conv
		}
		out = append(out, ch)
	}
	if out, err = s.dropBlockedReceipts(ctx, callerID, out); err != nil {
		return nil, err
	}
	next := Cursor{X: last, F: min(carry, last), Mode: 'r'}
	if more {
		next.X, next.Mode = changes[len(changes)-1].ID, 'p'
		next.F = min(carry, next.X)
	}
	return &SyncResult{Changes: out, Cursor: next.String(), HasMore: more}, nil
}

// fresh answers a device with no cursor: the conversation list and a
// cursor that resumes from before the list was read.
func (s *syncService) fresh(ctx context.Context, callerID string, head, floor int64, limit int) (*SyncResult, error) {
	convs, err := s.store.ListConversations(ctx, callerID, time.Time{}, limit+1)
	if err != nil {
		return nil, internalError("sync", err, slog.String("user_id", callerID))
	}
	more := len(convs) > limit
	if more {
		convs = convs[:limit]
	}
	if err := s.hideBlockedReceipts(ctx, callerID, convs...); err != nil {
		return nil, err
	}
	return &SyncResult{
		Changes:       []SyncChange{},
		Conversations: convs,
		Cursor:        Cursor{X: head, F: min(floor, head), Mode: 'r'}.String(),
		HasMore:       more,
	}, nil
}

// run records a sync mark every SyncMarkInterval and prunes what is older
// than the retention every hour, until ctx is done (Services.Run).
func (s *syncService) run(ctx context.Context) {
	mark := time.NewTicker(SyncMarkInterval)
	defer mark.Stop()
	prune := time.NewTicker(syncPruneInterval)
	defer prune.Stop()
	s.mark(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-mark.C:
			s.mark(ctx)
		case <-prune.C:
			if _, err := s.store.PruneSync(ctx, s.clock.Now().Add(-s.retention)); err != nil && ctx.Err() == nil {
				s.log.LogAttrs(ctx, slog.LevelError, "chatcore: prune sync", slog.Any("error", err))
			}
		}
	}
}

// mark files the counter under the end of the current SyncMarkInterval
// slot: every node marks the same slots (one row each, the first node's),
// and the value was read no later than the time it is filed under.
func (s *syncService) mark(ctx context.Context) {
	at := s.clock.Now().Truncate(SyncMarkInterval).Add(SyncMarkInterval)
	if err := s.store.MarkSync(ctx, at); err != nil && ctx.Err() == nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: sync mark", slog.Any("error", err))
	}
}
