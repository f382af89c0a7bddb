package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// messageBySeq returns one message with its attachments; ENotFound if none.
func (s *Store) messageBySeq(ctx context.Context, q queryer, conversationID string, seq int64) (*chatcore.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.conversation_id = $1 AND m.seq = $2`, conversationID, seq))
	if err != nil {
		return nil, notFound(err, "no message %d in %s", seq, conversationID)
	}
	if err := s.fillAttachments(ctx, q, []*chatcore.Message{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// MessageBySeq returns one message, tombstones too; see
// chatcore.MessageEditStore.
func (s *Store) MessageBySeq(ctx context.Context, conversationID string, seq int64) (*chatcore.Message, error) {
	m, err := s.messageBySeq(ctx, s.read, conversationID, seq)
	if err != nil && chatcore.ErrorCode(err) != chatcore.ENotFound {
		return nil, fmt.Errorf("message by seq: %w", err)
	}
	return m, err
}

// EditMessage sets body, mentions and edited_at of a live message in one
// statement. ENotFound if there is no such message or it is a tombstone.
func (s *Store) EditMessage(ctx context.Context, conversationID string, seq int64, body string, mentions []string, at time.Time) (*chatcore.Message, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE messages SET body = $3, mentions = $4, edited_at = $5
WHERE conversation_id = $1 AND seq = $2 AND deleted_at IS NULL`, conversationID, seq, body,
		mentionsCol(&chatcore.Message{Mentions: mentions}), s.t(UTC(at)))
	if err != nil {
		return nil, fmt.Errorf("edit message: %w", err)
	}
	if err := mustAffect(res, "no message %d in %s", seq, conversationID); err != nil {
		return nil, err
	}
	m, err := s.messageBySeq(ctx, s.write, conversationID, seq)
	if err != nil && chatcore.ErrorCode(err) != chatcore.ENotFound {
		return nil, fmt.Errorf("edit message: %w", err)
	}
	return m, err
}

// tombstoneWhere clears the live messages matching cond (over alias m,
// arguments from $1) in tx and returns how many changed and the
// attachment ids they unlinked.
func (s *Store) tombstoneWhere(ctx context.Context, tx *sql.Tx, at time.Time, cond string, args ...any) (int64, []string, error) {
	ids, err := scanStrings(tx.QueryContext(ctx, `SELECT m.id FROM messages m WHERE m.deleted_at IS NULL AND `+cond, args...))
	if err != nil {
		return 0, nil, fmt.Errorf("select messages: %w", err)
	}
	unlinked := []string{}
	const perChunk = 500
	for start := 0; start < len(ids); start += perChunk {
		chunk := ids[start:min(start+perChunk, len(ids))]
		in, inArgs := s.in("ma.message_id", 1, chunk)
		got, err := scanStrings(tx.QueryContext(ctx, `SELECT DISTINCT ma.attachment_id FROM message_attachments ma WHERE `+in, inArgs...))
		if err != nil {
			return 0, nil, fmt.Errorf("unlinked attachments: %w", err)
		}
		unlinked = append(unlinked, got...)
		in, inArgs = s.in("message_id", 1, chunk)
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_attachments WHERE `+in, inArgs...); err != nil {
			return 0, nil, fmt.Errorf("unlink attachments: %w", err)
		}
		in, inArgs = s.in("m.id", 1, chunk)
		if _, err := tx.ExecContext(ctx, `DELETE FROM reactions WHERE EXISTS (SELECT 1 FROM messages m
WHERE m.conversation_id = reactions.conversation_id AND m.seq = reactions.seq AND `+in+`)`, inArgs...); err != nil {
			return 0, nil, fmt.Errorf("drop reactions: %w", err)
		}
		in, inArgs = s.in("id", 2, chunk)
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET body = '', mentions = '', location = '', deleted_at = $1 WHERE `+in,
			append([]any{s.t(UTC(at))}, inArgs...)...); err != nil {
			return 0, nil, fmt.Errorf("tombstone: %w", err)
		}
	}
	return int64(len(ids)), dedupe(unlinked), nil
}

// DeleteMessage turns a message into a tombstone; see
// chatcore.MessageEditStore.
func (s *Store) DeleteMessage(ctx context.Context, conversationID string, seq int64, at time.Time) (*chatcore.Message, []string, error) {
	var m *chatcore.Message
	var unlinked []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if _, unlinked, err = s.tombstoneWhere(ctx, tx, at, `m.conversation_id = $1 AND m.seq = $2`, conversationID, seq); err != nil {
			return err
		}
		m, err = s.messageBySeq(ctx, tx, conversationID, seq)
		return err
	})
	if err != nil {
		if chatcore.ErrorCode(err) == chatcore.ENotFound {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("delete message: %w", err)
	}
	return m, unlinked, nil
}

// TombstoneMessagesBySender tombstones everything senderID sent except
// system messages; see chatcore.MessageEditStore.
func (s *Store) TombstoneMessagesBySender(ctx context.Context, senderID string, at time.Time) (int64, []string, error) {
	var n int64
	var unlinked []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, unlinked, err = s.tombstoneWhere(ctx, tx, at, `m.sender_id = $1 AND m.kind <> 'system'`, senderID)
		return err
	})
	if err != nil {
		return 0, nil, fmt.Errorf("tombstone messages by sender: %w", err)
	}
	return n, unlinked, nil
}

// ScheduleAttachmentDeletions queues ids for deletion at due; see
// chatcore.MessageEditStore.
func (s *Store) ScheduleAttachmentDeletions(ctx context.Context, ids []string, due time.Time) error {
	ids = dedupe(ids)
	const perChunk = 200
	for start := 0; start < len(ids); start += perChunk {
		chunk := ids[start:min(start+perChunk, len(ids))]
		values := make([]string, len(chunk))
		args := make([]any, 0, 2*len(chunk))
		for i, id := range chunk {
			values[i] = "(" + placeholders(2*i+1, 2) + ")"
			args = append(args, id, s.t(UTC(due)))
		}
		if _, err := s.write.ExecContext(ctx, `INSERT INTO attachment_deletions (attachment_id, due_at) VALUES `+
			strings.Join(values, ", ")+` ON CONFLICT (attachment_id) DO NOTHING`, args...); err != nil {
			return fmt.Errorf("schedule attachment deletions: %w", err)
		}
	}
	return nil
}

// DueAttachmentDeletions returns queued ids due by now that no message
// links; see chatcore.MessageEditStore.
func (s *Store) DueAttachmentDeletions(ctx context.Context, now time.Time, limit int) ([]string, error) {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM attachment_deletions WHERE due_at <= $1
AND EXISTS (SELECT 1 FROM message_attachments ma WHERE ma.attachment_id = attachment_deletions.attachment_id)`, s.t(UTC(now))); err != nil {
		return nil, fmt.Errorf("due attachment deletions: %w", err)
	}
	ids, err := scanStrings(s.write.QueryContext(ctx, `SELECT attachment_id FROM attachment_deletions WHERE due_at <= $1
ORDER BY due_at, attachment_id LIMIT $2`, s.t(UTC(now)), limit))
	if err != nil {
		return nil, fmt.Errorf("due attachment deletions: %w", err)
	}
	return ids, nil
}

// FinishAttachmentDeletion drops id from the queue.
func (s *Store) FinishAttachmentDeletion(ctx context.Context, id string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM attachment_deletions WHERE attachment_id = $1`, id); err != nil {
		return fmt.Errorf("finish attachment deletion: %w", err)
	}
	return nil
}

// SetConversationTitle renames a group in one statement; see
// chatcore.ConversationStore.
func (s *Store) SetConversationTitle(ctx context.Context, id, title string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE conversations SET title = $2 WHERE id = $1 AND kind = 'group'`, id, title)
	if err != nil {
		return fmt.Errorf("set conversation title: %w", err)
	}
	return mustAffect(res, "no group %s", id)
}
