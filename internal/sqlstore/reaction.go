package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// AddReaction records userID's emoji in one statement that also checks
// the message is live and not a system message, and the per-user and
// per-message limits; see chatcore.ReactionStore. COALESCE($5,
// m.created_at) gives Postgres the column's type for the time argument.
func (s *Store) AddReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string, at time.Time) (bool, error) {
	res, err := s.write.ExecContext(ctx, `INSERT INTO reactions (conversation_id, seq, user_id, emoji, created_at)
SELECT m.conversation_id, m.seq, CAST($3 AS TEXT), CAST($4 AS TEXT), COALESCE($5, m.created_at) FROM messages m
WHERE m.conversation_id = $1 AND m.seq = $2 AND m.deleted_at IS NULL AND m.kind <> 'system'
AND (SELECT COUNT(*) FROM reactions r WHERE r.conversation_id = $1 AND r.seq = $2 AND r.user_id = $3) < $6
AND ((SELECT COUNT(DISTINCT r.emoji) FROM reactions r WHERE r.conversation_id = $1 AND r.seq = $2) < $7
	OR EXISTS (SELECT 1 FROM reactions r WHERE r.conversation_id = $1 AND r.seq = $2 AND r.emoji = $4))
ON CONFLICT DO NOTHING`, conversationID, seq, userID, emoji, s.t(UTC(at)), chatcore.MaxReactionsPerUser, chatcore.MaxEmojiPerMessage)
	if err != nil {
		return false, fmt.Errorf("add reaction: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("add reaction: %w", err)
	} else if n == 1 {
		return true, nil
	}
	// Nothing inserted: say why.
	var kind string
	var deleted timeCol
	err = s.write.QueryRowContext(ctx, `SELECT kind, deleted_at FROM messages WHERE conversation_id = $1 AND seq = $2`,
		conversationID, seq).Scan(&kind, &deleted)
	if err != nil {
		if err = notFound(err, "no message %d in %s", seq, conversationID); chatcore.ErrorCode(err) == chatcore.ENotFound {
			return false, err
		}
		return false, fmt.Errorf("add reaction: %w", err)
	}
	switch {
	case deleted.Valid:
		return false, chatcore.Errorf(chatcore.EConflict, "message %d was deleted", seq)
	case kind == string(chatcore.MessageSystem):
		return false, chatcore.Errorf(chatcore.EInvalid, "system messages take no reactions")
	}
	var mine, already int
	var distinct int
	err = s.write.QueryRowContext(ctx, `SELECT
	COALESCE(SUM(CASE WHEN user_id = $3 THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN user_id = $3 AND emoji = $4 THEN 1 ELSE 0 END), 0),
	COUNT(DISTINCT emoji)
FROM reactions WHERE conversation_id = $1 AND seq = $2`, conversationID, seq, userID, emoji).Scan(&mine, &already, &distinct)
	if err != nil {
		return false, fmt.Errorf("add reaction: %w", err)
	}
	switch {
	case already > 0:
		return false, nil
	case mine >= chatcore.MaxReactionsPerUser:
		return false, chatcore.Errorf(chatcore.ETooLarge, "at most %d different reactions per person on a message", chatcore.MaxReactionsPerUser)
	case distinct >= chatcore.MaxEmojiPerMessage:
		return false, chatcore.Errorf(chatcore.ETooLarge, "a message carries at most %d different reactions", chatcore.MaxEmojiPerMessage)
	}
	// A concurrent removal or delete raced the insert; the state is what
	// the caller sees next.
	return false, nil
}

// RemoveReaction removes userID's emoji; see chatcore.ReactionStore.
func (s *Store) RemoveReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM reactions WHERE conversation_id = $1 AND seq = $2 AND user_id = $3 AND emoji = $4`,
		conversationID, seq, userID, emoji)
	if err != nil {
		return false, fmt.Errorf("remove reaction: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("remove reaction: %w", err)
	} else if n > 0 {
		return true, nil
	}
	var one int
	err = s.write.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE conversation_id = $1 AND seq = $2`, conversationID, seq).Scan(&one)
	if err != nil {
		if err = notFound(err, "no message %d in %s", seq, conversationID); chatcore.ErrorCode(err) == chatcore.ENotFound {
			return false, err
		}
		return false, fmt.Errorf("remove reaction: %w", err)
	}
	return false, nil
}

// ReactorEmoji returns each reactor's emoji on one message.
func (s *Store) ReactorEmoji(ctx context.Context, conversationID string, seq int64) (map[string][]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, emoji FROM reactions WHERE conversation_id = $1 AND seq = $2
ORDER BY user_id, created_at, emoji`, conversationID, seq)
	if err != nil {
		return nil, fmt.Errorf("reactor emoji: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var u, e string
		if err := rows.Scan(&u, &e); err != nil {
			return nil, fmt.Errorf("reactor emoji: %w", err)
		}
		out[u] = append(out[u], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reactor emoji: %w", err)
	}
	return out, nil
}

// msgKey names a message across conversations.
type msgKey struct {
	conv string
	seq  int64
}

// seqCond returns "(alias.conversation_id = $i AND alias.seq IN (...)) OR
// ..." over keys, with placeholders numbered from `from`.
func seqCond(alias string, from int, keys []msgKey) (string, []any) {
	byConv := map[string][]int64{}
	var order []string
	for _, k := range keys {
		if _, ok := byConv[k.conv]; !ok {
			order = append(order, k.conv)
		}
		byConv[k.conv] = append(byConv[k.conv], k.seq)
	}
	var b strings.Builder
	var args []any
	n := from
	for i, conv := range order {
		if i > 0 {
			b.WriteString(" OR ")
		}
		fmt.Fprintf(&b, "(%s.conversation_id = $%d AND %s.seq IN (", alias, n, alias)
		args = append(args, conv)
		n++
		for j, seq := range byConv[conv] {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + strconv.Itoa(n))
			args = append(args, seq)
			n++
		}
		b.WriteString("))")
	}
	return "(" + b.String() + ")", args
}

// FillMessageDetails sets Reactions and ReplyTo of msgs; see
// chatcore.ReactionStore. Three queries at most, whatever the count:
// reaction counts, the first reactors, the quoted messages.
func (s *Store) FillMessageDetails(ctx context.Context, msgs []*chatcore.Message, viewerID string) error {
	byKey := make(map[msgKey]*chatcore.Message, len(msgs))
	var live, quoted []msgKey
	for _, m := range msgs {
		if m == nil {
			continue
		}
		m.Reactions = []chatcore.Reaction{}
		k := msgKey{m.ConversationID, m.Seq}
		byKey[k] = m
		if m.DeletedAt == nil && m.Kind != chatcore.MessageSystem {
			live = append(live, k)
		}
		if m.ReplyToSeq > 0 {
			quoted = append(quoted, msgKey{m.ConversationID, m.ReplyToSeq})
		}
	}
	if err := s.fillReactions(ctx, byKey, live, viewerID); err != nil {
		return fmt.Errorf("fill reactions: %w", err)
	}
	if err := s.fillReplies(ctx, msgs, quoted); err != nil {
		return fmt.Errorf("fill replies: %w", err)
	}
	return nil
}

func (s *Store) fillReactions(ctx context.Context, byKey map[msgKey]*chatcore.Message, live []msgKey, viewerID string) error {
	if len(live) == 0 {
		return nil
	}
	cond, args := seqCond("r", 2, live)
	rows, err := s.read.QueryContext(ctx, `SELECT r.conversation_id, r.seq, r.emoji, COUNT(*),
	MAX(CASE WHEN r.user_id = $1 THEN 1 ELSE 0 END)
FROM reactions r WHERE `+cond+`
GROUP BY r.conversation_id, r.seq, r.emoji
ORDER BY r.conversation_id, r.seq, MIN(r.created_at), r.emoji`, append([]any{viewerID}, args...)...)
	if err != nil {
		return err
	}
	type emojiKey struct {
		msgKey
		emoji string
	}
	index := map[emojiKey]int{}
	for rows.Next() {
		var k msgKey
		var r chatcore.Reaction
		var me int
		if err := rows.Scan(&k.conv, &k.seq, &r.Emoji, &r.Count, &me); err != nil {
			rows.Close()
			return err
		}
		m := byKey[k]
		if m == nil {
			continue
		}
		r.Me, r.UserIDs = me == 1, []string{}
		index[emojiKey{k, r.Emoji}] = len(m.Reactions)
		m.Reactions = append(m.Reactions, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(index) == 0 {
		return nil
	}
	cond, args = seqCond("r", 1, live)
	rows, err = s.read.QueryContext(ctx, `SELECT conversation_id, seq, emoji, user_id FROM (
	SELECT r.conversation_id, r.seq, r.emoji, r.user_id,
		ROW_NUMBER() OVER (PARTITION BY r.conversation_id, r.seq, r.emoji ORDER BY r.created_at, r.user_id) AS n
	FROM reactions r WHERE `+cond+`) x
WHERE n <= `+strconv.Itoa(chatcore.ReactionUserIDs)+` ORDER BY conversation_id, seq, emoji, n`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k emojiKey
		var uid string
		if err := rows.Scan(&k.conv, &k.seq, &k.emoji, &uid); err != nil {
			return err
		}
		i, ok := index[k]
		if m := byKey[k.msgKey]; ok && m != nil {
			m.Reactions[i].UserIDs = append(m.Reactions[i].UserIDs, uid)
		}
	}
	return rows.Err()
}

func (s *Store) fillReplies(ctx context.Context, msgs []*chatcore.Message, quoted []msgKey) error {
	if len(quoted) == 0 {
		return nil
	}
	cond, args := seqCond("m", 1, quoted)
	rows, err := s.read.QueryContext(ctx, `SELECT m.conversation_id, m.seq, m.sender_id,
	SUBSTR(m.body, 1, `+strconv.Itoa(chatcore.ReplyBodyRunes)+`), m.kind, m.deleted_at
FROM messages m WHERE `+cond, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	got := map[msgKey]*chatcore.ReplyTo{}
	for rows.Next() {
		var conv, kind string
		var deleted timeCol
		r := new(chatcore.ReplyTo)
		if err := rows.Scan(&conv, &r.Seq, &r.SenderID, &r.Body, &kind, &deleted); err != nil {
			return err
		}
		r.Kind, r.Deleted = chatcore.MessageKind(kind), deleted.Valid
		if r.Kind == "" {
			r.Kind = chatcore.MessageText
		}
		if r.Deleted {
			r.Body = ""
		}
		r.Body = chatcore.TruncateRunes(r.Body, chatcore.ReplyBodyRunes)
		got[msgKey{conv, r.Seq}] = r
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range msgs {
		if m != nil && m.ReplyToSeq > 0 {
			if r := got[msgKey{m.ConversationID, m.ReplyToSeq}]; r != nil {
				c := *r
				m.ReplyTo = &c
			}
		}
	}
	return nil
}
