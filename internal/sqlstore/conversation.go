package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// conversationCols are the columns scanConversation reads, from alias c.
const conversationCols = `c.id, c.kind, c.title, c.created_by, c.created_at, c.last_seq, c.last_activity_at`

func scanConversation(row interface{ Scan(...any) error }, extra ...any) (*chatcore.Conversation, error) {
	var c chatcore.Conversation
	var created, active timeCol
	dest := append([]any{&c.ID, &c.Kind, &c.Title, &c.CreatedBy, &created, &c.LastSeq, &active}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastActivityAt = created.T, active.T
	c.Members = []chatcore.Member{}
	return &c, nil
}

// directKey names the pair of a direct conversation whichever way round.
func directKey(a, b string) string {
	if b < a {
		a, b = b, a
	}
	return a + " " + b
}

// prepareConversation normalises c before it is inserted.
func prepareConversation(c *chatcore.Conversation) {
	c.CreatedAt = UTC(c.CreatedAt)
	if c.LastActivityAt.IsZero() {
		c.LastActivityAt = c.CreatedAt
	}
	c.LastActivityAt = UTC(c.LastActivityAt)
	c.LastSeq = 0
	c.LastMessage, c.UnreadCount = nil, 0
}

// CreateConversation inserts group c with the given members (duplicates
// ignored), normalising c in place and filling c.Members. EInvalid for a
// direct conversation (use FindOrCreateDirect); ETooLarge past
// chatcore.MaxGroupMembers; ENotFound for unknown users; EConflict if the id
// exists.
func (s *Store) CreateConversation(ctx context.Context, c *chatcore.Conversation, memberIDs []string) error {
	if c.Kind == "" {
		c.Kind = chatcore.KindGroup
	}
	if c.Kind != chatcore.KindGroup {
		return chatcore.Errorf(chatcore.EInvalid, "create conversation: kind %q: use FindOrCreateDirect for direct conversations", c.Kind)
	}
	memberIDs = dedupe(memberIDs)
	if len(memberIDs) > chatcore.MaxGroupMembers {
		return chatcore.Errorf(chatcore.ETooLarge, "a group has at most %d members", chatcore.MaxGroupMembers)
	}
	prepareConversation(c)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkUsers(ctx, tx, memberIDs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, kind, title, created_by, created_at, last_seq, last_activity_at)
VALUES ($1, $2, $3, $4, $5, 0, $6)`,
			c.ID, string(c.Kind), c.Title, c.CreatedBy, s.t(c.CreatedAt), s.t(c.LastActivityAt)); err != nil {
			return err
		}
		if err := s.insertMembers(ctx, tx, c.ID, memberIDs, c.CreatedAt, 0); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2`,
			c.ID, c.CreatedBy, string(chatcore.GroupOwner))
		return err
	})
	if s.d.IsUniqueViolation(err) {
		return chatcore.Errorf(chatcore.EConflict, "conversation %s exists", c.ID)
	}
	if err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	c.Members = make([]chatcore.Member, 0, len(memberIDs))
	for _, id := range memberIDs {
		role := chatcore.GroupMember
		if id == c.CreatedBy {
			role = chatcore.GroupOwner
		}
		c.Members = append(c.Members, chatcore.Member{UserID: id, JoinedAt: c.CreatedAt, Role: role})
	}
	return nil
}

// insertMembers adds users to a conversation, skipping existing members;
// they start with their receipts at seq (nothing before joining is unread).
func (s *Store) insertMembers(ctx context.Context, tx *sql.Tx, convID string, userIDs []string, joined time.Time, seq int64) error {
	const perChunk = 500 // 5 arguments a row stays far below every engine's limit
	for start := 0; start < len(userIDs); start += perChunk {
		chunk := userIDs[start:min(start+perChunk, len(userIDs))]
		var b strings.Builder
		args := make([]any, 0, 5*len(chunk))
		for i, id := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(5*i+1, 5) + ")")
			args = append(args, convID, id, s.t(joined), seq, seq)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (conversation_id, user_id, joined_at, delivered_seq, read_seq) VALUES `+
			b.String()+` ON CONFLICT (conversation_id, user_id) DO NOTHING`, args...); err != nil {
			return fmt.Errorf("insert members: %w", err)
		}
	}
	return nil
}

// checkUsers returns ENotFound naming the first of ids that is no user.
func (s *Store) checkUsers(ctx context.Context, q queryer, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	cond, args := s.in("id", 1, ids)
	found, err := scanStrings(q.QueryContext(ctx, `SELECT id FROM users WHERE `+cond, args...))
	if err != nil {
		return fmt.Errorf("check users: %w", err)
	}
	if len(found) == len(ids) {
		return nil
	}
	have := make(map[string]bool, len(found))
	for _, id := range found {
		have[id] = true
	}
	for _, id := range ids {
		if !have[id] {
			return chatcore.Errorf(chatcore.ENotFound, "no user %s", id)
		}
	}
	return nil
}

// FindOrCreateDirect returns the direct conversation between a and b,
// creating it from c (normalised in place) if none exists. A unique key on
// the pair makes concurrent calls agree on one conversation. EInvalid if a
// and b are the same user; ENotFound if either does not exist.
func (s *Store) FindOrCreateDirect(ctx context.Context, c *chatcore.Conversation, a, b string) (*chatcore.Conversation, bool, error) {
	if a == b {
		return nil, false, chatcore.Errorf(chatcore.EInvalid, "a direct conversation needs two different users")
	}
	key := directKey(a, b)
	if conv, err := s.directByKey(ctx, s.read, key); err == nil || chatcore.ErrorCode(err) != chatcore.ENotFound {
		return conv, false, err
	}
	c.Kind, c.Title = chatcore.KindDirect, ""
	prepareConversation(c)
	created := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkUsers(ctx, tx, []string{a, b}); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO conversations (id, kind, title, created_by, created_at, last_seq, last_activity_at, direct_key)
VALUES ($1, $2, '', $3, $4, 0, $5, $6) ON CONFLICT (direct_key) DO NOTHING`,
			c.ID, string(c.Kind), c.CreatedBy, s.t(c.CreatedAt), s.t(c.LastActivityAt), key)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // the other caller created it
		}
		created = true
		return s.insertMembers(ctx, tx, c.ID, []string{a, b}, c.CreatedAt, 0)
	})
	if err != nil {
		return nil, false, fmt.Errorf("find or create direct: %w", err)
	}
	conv, err := s.directByKey(ctx, s.read, key)
	if err != nil {
		return nil, false, fmt.Errorf("find or create direct: %w", err)
	}
	return conv, created, nil
}

func (s *Store) directByKey(ctx context.Context, q queryer, key string) (*chatcore.Conversation, error) {
	c, err := scanConversation(q.QueryRowContext(ctx, `SELECT `+conversationCols+` FROM conversations c WHERE c.direct_key = $1`, key))
	if err != nil {
		return nil, notFound(err, "no direct conversation")
	}
	if err := s.fillMembers(ctx, q, []*chatcore.Conversation{c}); err != nil {
		return nil, err
	}
	return c, nil
}

// ConversationForUser returns the conversation as userID sees it: members,
// last message and unread count. ENotFound unless userID is a member.
func (s *Store) ConversationForUser(ctx context.Context, id, userID string) (*chatcore.Conversation, error) {
	var readSeq int64
	c, err := scanConversation(s.read.QueryRowContext(ctx, `SELECT `+conversationCols+`, me.read_seq
FROM conversations c JOIN members me ON me.conversation_id = c.id AND me.user_id = $2 WHERE c.id = $1`, id, userID), &readSeq)
	if err != nil {
		return nil, fmt.Errorf("conversation: %w", notFound(err, "no conversation %s", id))
	}
	if err := s.fillViews(ctx, []*chatcore.Conversation{c}, userID); err != nil {
		return nil, fmt.Errorf("conversation: %w", err)
	}
	return c, nil
}

// ListConversations returns userID's conversations, newest activity first,
// with members, last message and unread count; at most limit (default
// chatcore.DefaultConversationsPage, at most MaxConversationsPage), only those active before
// `before` when it is non-zero.
func (s *Store) ListConversations(ctx context.Context, userID string, before time.Time, limit int) ([]*chatcore.Conversation, error) {
	limit = clampLimit(limit, chatcore.DefaultConversationsPage, chatcore.MaxConversationsPage)
	const sel = `SELECT ` + conversationCols + ` FROM members me JOIN conversations c ON c.id = me.conversation_id WHERE me.user_id = $1 `
	var rows *sql.Rows
	var err error
	if before.IsZero() {
		rows, err = s.read.QueryContext(ctx, sel+`ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2`, userID, limit)
	} else {
		rows, err = s.read.QueryContext(ctx, sel+`AND c.last_activity_at < $2 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $3`,
			userID, s.t(UTC(before)), limit)
	}
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	convs := []*chatcore.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		convs = append(convs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	if err := s.fillViews(ctx, convs, userID); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return convs, nil
}

// fillViews fills members, last message and userID's unread count, with one
// query each for all of convs.
func (s *Store) fillViews(ctx context.Context, convs []*chatcore.Conversation, userID string) error {
	if len(convs) == 0 {
		return nil
	}
	if err := s.fillMembers(ctx, s.read, convs); err != nil {
		return err
	}
	byID := make(map[string]*chatcore.Conversation, len(convs))
	ids := make([]string, 0, len(convs))
	for _, c := range convs {
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	// Last messages: seq = last_seq, read in the same query as the seq so
	// that a message appended meanwhile cannot leave a gap.
	cond, args := s.in("c.id", 1, ids)
	msgs, err := scanMessages(s.read.QueryContext(ctx, `SELECT `+messageCols+`
FROM conversations c JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq
WHERE `+cond, args...))
	if err != nil {
		return fmt.Errorf("last messages: %w", err)
	}
	if err := s.fillAttachments(ctx, s.read, msgs); err != nil {
		return err
	}
	for _, m := range msgs {
		byID[m.ConversationID].LastMessage = m
	}

	cond, args = s.in("me.conversation_id", 2, ids)
	rows, err := s.read.QueryContext(ctx, `SELECT m.conversation_id, COUNT(*)
FROM members me JOIN messages m ON m.conversation_id = me.conversation_id AND m.seq > me.read_seq
WHERE me.user_id = $1 AND `+cond+` AND `+unreadFilter+`
GROUP BY m.conversation_id`, append([]any{userID}, args...)...)
	if err != nil {
		return fmt.Errorf("unread counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("unread counts: %w", err)
		}
		byID[id].UnreadCount = n
	}
	return rows.Err()
}

// unreadFilter is the condition a message m must meet to count as unread
// for member $1: someone else wrote it, it is not a system message (joins,
// leaves, renames are shown but never counted) and it was not deleted (a
// tombstone has nothing to read). Every unread count uses it: conversation
// views, the sync feed's list, the push badge.
const unreadFilter = `m.sender_id <> $1 AND m.kind <> '` + string(chatcore.MessageSystem) + `' AND m.deleted_at IS NULL`

// fillMembers loads the members of convs in one query.
func (s *Store) fillMembers(ctx context.Context, q queryer, convs []*chatcore.Conversation) error {
	byID := make(map[string]*chatcore.Conversation, len(convs))
	ids := make([]string, 0, len(convs))
	for _, c := range convs {
		c.Members = []chatcore.Member{}
		byID[c.ID] = c
		ids = append(ids, c.ID)
	}
	cond, args := s.in("conversation_id", 1, ids)
	rows, err := q.QueryContext(ctx, `SELECT conversation_id, user_id, joined_at, delivered_seq, read_seq, role FROM members
WHERE `+cond+` ORDER BY conversation_id, joined_at, user_id`, args...)
	if err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var convID string
		var m chatcore.Member
		var joined timeCol
		if err := rows.Scan(&convID, &m.UserID, &joined, &m.DeliveredSeq, &m.ReadSeq, &m.Role); err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		m.JoinedAt = joined.T
		c := byID[convID]
		c.Members = append(c.Members, m)
	}
	return rows.Err()
}

// IsMember reports whether userID belongs to conversation id.
func (s *Store) IsMember(ctx context.Context, id, userID string) (bool, error) {
	var ok bool
	err := s.read.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2)`, id, userID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("is member: %w", err)
	}
	return ok, nil
}

// MemberIDs returns the members' user IDs in joining order. ENotFound if
// no such conversation.
func (s *Store) MemberIDs(ctx context.Context, id string) ([]string, error) {
	ids, err := scanStrings(s.read.QueryContext(ctx,
		`SELECT user_id FROM members WHERE conversation_id = $1 ORDER BY joined_at, user_id`, id))
	if err != nil {
		return nil, fmt.Errorf("member ids: %w", err)
	}
	if len(ids) > 0 {
		return ids, nil
	}
	var exists bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`, id).Scan(&exists); err != nil {
		return nil, fmt.Errorf("member ids: %w", err)
	}
	if !exists {
		return nil, chatcore.Errorf(chatcore.ENotFound, "no conversation %s", id)
	}
	return []string{}, nil
}

// AddMembers adds users to a group (existing members are ignored); they
// start with nothing unread. EInvalid for a direct conversation, ETooLarge
// past chatcore.MaxGroupMembers, ENotFound for an unknown conversation or user.
func (s *Store) AddMembers(ctx context.Context, id string, userIDs []string, now time.Time) error {
	userIDs = dedupe(userIDs)
	if len(userIDs) == 0 {
		return nil
	}
	if len(userIDs) > chatcore.MaxGroupMembers {
		return chatcore.Errorf(chatcore.ETooLarge, "a group has at most %d members", chatcore.MaxGroupMembers)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// A no-op UPDATE locks the row (Postgres) so that concurrent
		// additions cannot together pass the cap.
		var kind string
		var lastSeq int64
		err := tx.QueryRowContext(ctx, `UPDATE conversations SET last_seq = last_seq WHERE id = $1 RETURNING kind, last_seq`, id).
			Scan(&kind, &lastSeq)
		if err != nil {
			return notFound(err, "no conversation %s", id)
		}
		if chatcore.ConversationKind(kind) != chatcore.KindGroup {
			return chatcore.Errorf(chatcore.EInvalid, "members of a direct conversation cannot change")
		}
		if err := s.checkUsers(ctx, tx, userIDs); err != nil {
			return err
		}
		if err := s.insertMembers(ctx, tx, id, userIDs, UTC(now), lastSeq); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM members WHERE conversation_id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n > chatcore.MaxGroupMembers {
			return chatcore.Errorf(chatcore.ETooLarge, "a group has at most %d members", chatcore.MaxGroupMembers)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add members: %w", err)
	}
	return nil
}

// RemoveMember removes a member. ENotFound if not a member. When the
// group's owner goes, the oldest admin (else the oldest member) becomes
// owner in the same transaction.
func (s *Store) RemoveMember(ctx context.Context, id, userID string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var role string
		err := tx.QueryRowContext(ctx, `DELETE FROM members WHERE conversation_id = $1 AND user_id = $2 RETURNING role`, id, userID).Scan(&role)
		if err != nil {
			return notFound(err, "%s is not a member of %s", userID, id)
		}
		if chatcore.MemberRole(role) != chatcore.GroupOwner {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE members SET role = 'owner' WHERE conversation_id = $1 AND user_id = (
	SELECT user_id FROM members WHERE conversation_id = $1
	ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, joined_at, user_id LIMIT 1)`, id)
		return err
	})
	if err != nil && chatcore.ErrorCode(err) != chatcore.ENotFound {
		return fmt.Errorf("remove member: %w", err)
	}
	return err
}

// SetMemberRole sets a member's role. ENotFound if not a member.
func (s *Store) SetMemberRole(ctx context.Context, id, userID string, role chatcore.MemberRole) error {
	res, err := s.write.ExecContext(ctx, `UPDATE members SET role = $3 WHERE conversation_id = $1 AND user_id = $2`, id, userID, string(role))
	if err != nil {
		return fmt.Errorf("set member role: %w", err)
	}
	return mustAffect(res, "%s is not a member of %s", userID, id)
}

// PeerIDs returns the distinct users sharing a conversation with userID, sorted.
func (s *Store) PeerIDs(ctx context.Context, userID string) ([]string, error) {
	ids, err := scanStrings(s.read.QueryContext(ctx, `SELECT DISTINCT o.user_id FROM members me
JOIN members o ON o.conversation_id = me.conversation_id
WHERE me.user_id = $1 AND o.user_id <> $1 ORDER BY o.user_id`, userID))
	if err != nil {
		return nil, fmt.Errorf("peer ids: %w", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}
