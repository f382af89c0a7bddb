package chatcore

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// Defaults of the edit and delete settings (ServiceConfig).
const (
	// DefaultEditWindow is how long after sending a sender may edit.
	DefaultEditWindow = 48 * time.Hour
	// DefaultAttachmentDeleteGrace is how long the objects of attachments
	// a deletion unlinked stay before they are deleted.
	DefaultAttachmentDeleteGrace = 24 * time.Hour
	// DefaultAttachmentSweepInterval is how often RunAttachmentSweeper looks.
	DefaultAttachmentSweepInterval = time.Minute
	// attachmentSweepBatch is how many queued deletions one query takes.
	attachmentSweepBatch = 100
)

// Server→client frames of edits, deletions and reactions.
const (
	FrameMessageEdited  = "message_edited"
	FrameMessageDeleted = "message_deleted"
	FrameReaction       = "reaction"
)

// MessageChangeFrame is pushed to members when a message is edited
// (message_edited) or deleted (message_deleted: the tombstone).
type MessageChangeFrame struct {
	Type    string   `json:"type"`
	Message *Message `json:"message"`
	// Cursor is the sync cursor of this change (GET /v1/sync?since=).
	Cursor string `json:"cursor,omitempty"`
}

// ReactionFrame is pushed to members when someone adds (on) or removes a
// reaction; Reactions is the message's new summary, Me for the recipient.
type ReactionFrame struct {
	Type           string     `json:"type"` // "reaction"
	ConversationID string     `json:"conversation_id"`
	Seq            int64      `json:"seq"`
	UserID         string     `json:"user_id"`
	Emoji          string     `json:"emoji"`
	On             bool       `json:"on"`
	Reactions      []Reaction `json:"reactions"`
	// Cursor is the sync cursor of this change (GET /v1/sync?since=).
	Cursor string `json:"cursor,omitempty"`
}

// AttachmentObjectDeleter deletes an attachment's objects when nothing
// else uses them (upload.Lifecycle implements it); chatcore does not
// import package upload.
type AttachmentObjectDeleter interface {
	DeleteAttachmentObjects(ctx context.Context, id string) error
}

// MessageEditService reads, edits, deletes and reacts to single messages.
// Every change is pushed to the conversation's members on every node.
type MessageEditService interface {
	// Message returns one message as the caller sees it (tombstones too).
	// Errors: ENotFound (no such conversation or message, or not a member).
	Message(ctx context.Context, callerID, convID string, seq int64) (*Message, error)
	// Edit replaces the body of the caller's message within the edit
	// window; mentions are resolved again, attachments stay. Errors:
	// EInvalid (body), ETooLarge (body), ENotFound, EForbidden (not the
	// sender), EConflict (edit window passed, or the message is deleted).
	Edit(ctx context.Context, callerID, convID string, seq int64, body string) (*Message, error)
	// Delete turns a message into a tombstone: the sender's own, or
	// anyone's by a group owner or admin. Deleting a tombstone again
	// returns it. Errors: ENotFound, EForbidden, EInvalid (system message).
	Delete(ctx context.Context, callerID, convID string, seq int64) (*Message, error)
	// React adds (on) or removes the caller's emoji; both are idempotent.
	// Errors: EInvalid (emoji, system message), ENotFound, EConflict
	// (deleted message), ETooLarge (MaxReactionsPerUser, MaxEmojiPerMessage).
	React(ctx context.Context, callerID, convID string, seq int64, emoji string, on bool) (*Message, error)
}

// messageEditService implements MessageEditService.
type messageEditService struct {
	*deps
	window  time.Duration
	grace   time.Duration
	objects AttachmentObjectDeleter // nil: unlinked objects stay
}

// member returns the conversation as the caller sees it, or ENotFound
// when it does not exist or the caller is not a member.
func (s *messageEditService) member(ctx context.Context, callerID, convID, op string) (*Conversation, error) {
	conv, err := s.store.ConversationForUser(ctx, convID, callerID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "conversation not found")
		}
		return nil, internalError(op, err, slog.String("conversation_id", convID))
	}
	return conv, nil
}

// message loads one message of a conversation the caller belongs to.
func (s *messageEditService) message(ctx context.Context, convID string, seq int64, op string) (*Message, error) {
	if seq < 1 {
		return nil, Errorf(EInvalid, "seq must be a positive integer")
	}
	m, err := s.store.MessageBySeq(ctx, convID, seq)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "message not found")
		}
		return nil, internalError(op, err, slog.String("conversation_id", convID))
	}
	return m, nil
}

// details fills the reactions and reply_to of msgs as viewerID sees them.
func (s *deps) details(ctx context.Context, msgs []*Message, viewerID, op string) error {
	if err := s.store.FillMessageDetails(ctx, msgs, viewerID); err != nil {
		return internalError(op, err)
	}
	for _, m := range msgs {
		if m != nil && m.Attachments == nil {
			m.Attachments = []*Attachment{}
		}
	}
	return nil
}

// Message returns one message as the caller sees it.
func (s *messageEditService) Message(ctx context.Context, callerID, convID string, seq int64) (*Message, error) {
	if _, err := s.member(ctx, callerID, convID, "get message"); err != nil {
		return nil, err
	}
	m, err := s.message(ctx, convID, seq, "get message")
	if err != nil {
		return nil, err
	}
	if err := s.details(ctx, []*Message{m}, callerID, "get message"); err != nil {
		return nil, err
	}
	return m, nil
}

// Edit replaces the body of the caller's own message; see MessageEditService.
func (s *messageEditService) Edit(ctx context.Context, callerID, convID string, seq int64, body string) (*Message, error) {
	switch {
	case len(body) > MaxBodyBytes:
		return nil, Errorf(ETooLarge, "body must be at most %d bytes", MaxBodyBytes)
	case !utf8.ValidString(body):
		return nil, Errorf(EInvalid, "body must be valid UTF-8")
	}
	conv, err := s.member(ctx, callerID, convID, "edit message")
	if err != nil {
		return nil, err
	}
	m, err := s.message(ctx, convID, seq, "edit message")
	if err != nil {
		return nil, err
	}
	switch {
	case m.Kind == MessageSystem:
		return nil, Errorf(EInvalid, "system messages cannot be edited")
	case m.SenderID != callerID:
		return nil, Errorf(EForbidden, "only the sender may edit a message")
	case m.DeletedAt != nil:
		return nil, Errorf(EConflict, "message was deleted")
	case s.clock.Now().Sub(m.CreatedAt) > s.window:
		return nil, Errorf(EConflict, "messages can be edited for %s after sending", s.window)
	case strings.TrimSpace(body) == "" && len(m.Attachments) == 0 && m.Kind != MessageLocation:
		return nil, Errorf(EInvalid, "body must not be empty")
	}
	mentions := []string{}
	if strings.IndexByte(body, '@') >= 0 {
		if mentions, err = s.resolveMentions(ctx, body, conv, callerID); err != nil {
			return nil, err
		}
	}
	edited, err := s.store.EditMessage(ctx, convID, seq, body, mentions, s.clock.Now().UTC())
	if err != nil {
		if ErrorCode(err) == ENotFound { // deleted meanwhile
			return nil, Errorf(EConflict, "message was deleted")
		}
		return nil, internalError("edit message", err, slog.String("conversation_id", convID))
	}
	if err := s.details(ctx, []*Message{edited}, "", "edit message"); err != nil {
		return nil, err
	}
	s.publishPersonal(ctx, memberIDs(conv), edited, func(rs []Reaction) []byte {
		c := *edited
		c.Reactions = rs
		return EncodeFrame(MessageChangeFrame{Type: FrameMessageEdited, Message: &c, Cursor: LiveCursor(c.ChangeID)})
	}, "edit message")
	return s.personal(ctx, edited, callerID), nil
}

// Delete tombstones a message and schedules the deletion of the objects
// of the attachments it unlinked; see MessageEditService.
func (s *messageEditService) Delete(ctx context.Context, callerID, convID string, seq int64) (*Message, error) {
	conv, err := s.member(ctx, callerID, convID, "delete message")
	if err != nil {
		return nil, err
	}
	m, err := s.message(ctx, convID, seq, "delete message")
	if err != nil {
		return nil, err
	}
	switch {
	case m.Kind == MessageSystem:
		return nil, Errorf(EInvalid, "system messages cannot be deleted")
	case m.SenderID != callerID && !(conv.Kind == KindGroup && roleOf(conv, callerID).canModerate()):
		return nil, Errorf(EForbidden, "only the sender or a group owner or admin may delete a message")
	}
	wasLive := m.DeletedAt == nil
	now := s.clock.Now().UTC()
	gone, unlinked, err := s.store.DeleteMessage(ctx, convID, seq, now)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "message not found")
		}
		return nil, internalError("delete message", err, slog.String("conversation_id", convID))
	}
	if len(unlinked) > 0 && s.objects != nil {
		if err := s.store.ScheduleAttachmentDeletions(ctx, unlinked, now.Add(s.grace)); err != nil {
			// The message is gone; its objects stay until retention.
			s.log.LogAttrs(ctx, slog.LevelError, "chatcore: schedule attachment deletions",
				slog.String("conversation_id", convID), slog.Int64("seq", seq), slog.Any("error", err))
		}
	}
	if err := s.details(ctx, []*Message{gone}, callerID, "delete message"); err != nil {
		return nil, err
	}
	if wasLive {
		s.publish(ctx, memberIDs(conv), EncodeFrame(MessageChangeFrame{Type: FrameMessageDeleted, Message: gone, Cursor: LiveCursor(gone.ChangeID)}), "delete message")
	}
	if wasLive && s.push != nil {
		// Devices without a live socket withdraw a notification showing it.
		s.push.MessageDeleted(gone, without(memberIDs(conv), gone.SenderID))
	}
	return gone, nil
}

// React adds or removes the caller's emoji; see MessageEditService.
func (s *messageEditService) React(ctx context.Context, callerID, convID string, seq int64, emoji string, on bool) (*Message, error) {
	if err := ValidateEmoji(emoji); err != nil {
		return nil, err
	}
	conv, err := s.member(ctx, callerID, convID, "react")
	if err != nil {
		return nil, err
	}
	if seq < 1 {
		return nil, Errorf(EInvalid, "seq must be a positive integer")
	}
	var changed bool
	if on {
		changed, err = s.store.AddReaction(ctx, convID, seq, callerID, emoji, s.clock.Now().UTC())
	} else {
		changed, err = s.store.RemoveReaction(ctx, convID, seq, callerID, emoji)
	}
	if err != nil {
		switch ErrorCode(err) {
		case ENotFound:
			return nil, Errorf(ENotFound, "message not found")
		case EConflict, EInvalid, ETooLarge:
			return nil, err
		}
		return nil, internalError("react", err, slog.String("conversation_id", convID))
	}
	m, err := s.message(ctx, convID, seq, "react")
	if err != nil {
		return nil, err
	}
	if !on && m.Kind == MessageSystem {
		return nil, Errorf(EInvalid, "system messages take no reactions")
	}
	if err := s.details(ctx, []*Message{m}, "", "react"); err != nil {
		return nil, err
	}
	if changed {
		s.publishPersonal(ctx, memberIDs(conv), m, func(rs []Reaction) []byte {
			return EncodeFrame(ReactionFrame{Type: FrameReaction, ConversationID: convID, Seq: seq,
				UserID: callerID, Emoji: emoji, On: on, Reactions: rs, Cursor: LiveCursor(m.ChangeID)})
		}, "react")
	}
	return s.personal(ctx, m, callerID), nil
}

// personal returns a copy of m whose reactions' Me is true where callerID
// reacted (m's were filled for nobody).
func (s *messageEditService) personal(ctx context.Context, m *Message, callerID string) *Message {
	c := *m
	if len(m.Reactions) == 0 {
		return &c
	}
	mine, err := s.store.ReactorEmoji(ctx, m.ConversationID, m.Seq)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "chatcore: reactor emoji", slog.Any("error", err))
	}
	c.Reactions = withMe(m.Reactions, mine[callerID])
	return &c
}

// withMe copies rs with Me set for the emoji in mine.
func withMe(rs []Reaction, mine []string) []Reaction {
	out := make([]Reaction, len(rs))
	for i, r := range rs {
		r.Me = contains(mine, r.Emoji)
		out[i] = r
	}
	return out
}

// publishPersonal pushes the frame build makes to members, with each
// recipient's Me right: one event for everyone who has not reacted, and
// one per distinct set of emoji among those who have (a handful in
// practice, never more than the reactors).
func (s *messageEditService) publishPersonal(ctx context.Context, members []string, m *Message, build func([]Reaction) []byte, op string) {
	if len(m.Reactions) == 0 {
		s.publish(ctx, members, build(m.Reactions), op)
		return
	}
	reactors, err := s.store.ReactorEmoji(ctx, m.ConversationID, m.Seq)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: reactor emoji", slog.String("op", op), slog.Any("error", err))
	}
	groups := map[string][]string{}
	sets := map[string][]string{}
	for _, uid := range members {
		key := strings.Join(reactors[uid], "\x00")
		groups[key] = append(groups[key], uid)
		sets[key] = reactors[uid]
	}
	for key, rcpts := range groups {
		s.publish(ctx, rcpts, build(withMe(m.Reactions, sets[key])), op)
	}
}

// memberIDs lists conv's member ids.
func memberIDs(conv *Conversation) []string {
	ids := make([]string, len(conv.Members))
	for i, m := range conv.Members {
		ids[i] = m.UserID
	}
	return ids
}

// SweepDeletedAttachments deletes the objects of attachments whose grace
// period after their message's deletion has passed and that no message
// links any more, and returns how many. Several nodes may sweep at once:
// deleting twice is harmless.
func (s *Services) SweepDeletedAttachments(ctx context.Context) (int, error) {
	es := s.edits
	if es == nil || es.objects == nil {
		return 0, nil
	}
	n := 0
	for {
		ids, err := es.store.DueAttachmentDeletions(ctx, es.clock.Now().UTC(), attachmentSweepBatch)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := es.objects.DeleteAttachmentObjects(ctx, id); err != nil && ErrorCode(err) != ENotFound {
				es.log.LogAttrs(ctx, slog.LevelWarn, "chatcore: delete attachment objects",
					slog.String("attachment_id", id), slog.Any("error", err))
				continue // stays queued; the next sweep retries
			}
			if err := es.store.FinishAttachmentDeletion(ctx, id); err != nil {
				return n, err
			}
			n++
		}
		if len(ids) < attachmentSweepBatch {
			return n, nil
		}
	}
}

// RunAttachmentSweeper calls SweepDeletedAttachments now and every
// interval (zero: DefaultAttachmentSweepInterval) until ctx is done.
// The queue is in the database, so deletions survive restarts.
func (s *Services) RunAttachmentSweeper(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultAttachmentSweepInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.SweepDeletedAttachments(ctx); err != nil && ctx.Err() == nil {
			s.deps.log.LogAttrs(ctx, slog.LevelError, "chatcore: attachment sweep", slog.Any("error", err))
		} else if n > 0 {
			s.deps.log.LogAttrs(ctx, slog.LevelInfo, "chatcore: deleted attachments' objects removed", slog.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
