package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/chatcore"
)

// messageCols are the columns scanMessage reads, from table alias m.
const messageCols = `m.id, m.conversation_id, m.seq, COALESCE(m.client_id, ''), m.sender_id, m.body, m.reply_to_seq, m.created_at,
m.kind, m.mentions, m.system, m.location, m.edited_at, m.deleted_at, m.change_id`

// errDuplicate ends an append transaction whose client_id turned out taken.
var errDuplicate = errors.New("sqlstore: duplicate client id")

func scanMessage(row interface{ Scan(...any) error }) (*chatcore.Message, error) {
	var m chatcore.Message
	var created, edited, deleted timeCol
	var kind, mentions, system, location string
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.ClientID, &m.SenderID, &m.Body, &m.ReplyToSeq, &created,
		&kind, &mentions, &system, &location, &edited, &deleted, &m.ChangeID); err != nil {
		return nil, err
	}
	m.CreatedAt, m.EditedAt, m.DeletedAt = created.T, edited.ptr(), deleted.ptr()
	m.Kind = chatcore.MessageKind(kind)
	if m.Kind == "" {
		m.Kind = chatcore.MessageText
	}
	m.Mentions = []string{}
	if err := unmarshalCol(mentions, &m.Mentions); err != nil {
		return nil, fmt.Errorf("message %s mentions: %w", m.ID, err)
	}
	if system != "" {
		m.System = new(chatcore.SystemEvent)
		if err := unmarshalCol(system, m.System); err != nil {
			return nil, fmt.Errorf("message %s system: %w", m.ID, err)
		}
	}
	if location != "" {
		m.Location = new(chatcore.Location)
		if err := unmarshalCol(location, m.Location); err != nil {
			return nil, fmt.Errorf("message %s location: %w", m.ID, err)
		}
	}
	m.Attachments, m.Reactions = []*chatcore.Attachment{}, []chatcore.Reaction{}
	return &m, nil
}

// prepareMessage fills the defaults of the columns issue 11 added.
func prepareMessage(m *chatcore.Message) {
	if m.Kind == "" {
		m.Kind = chatcore.MessageText
	}
	if m.Mentions == nil {
		m.Mentions = []string{}
	}
	if m.Reactions == nil {
		m.Reactions = []chatcore.Reaction{}
	}
}

// mentionsCol encodes m.Mentions (” when none).
func mentionsCol(m *chatcore.Message) string {
	if len(m.Mentions) == 0 {
		return ""
	}
	return jsonCol(m.Mentions)
}

// jsonCol encodes v as JSON text, ” for a nil pointer.
func jsonCol[T any](v T) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return ""
	}
	return string(b)
}

// unmarshalCol decodes a JSON text column; ” leaves v as it is.
func unmarshalCol(col string, v any) error {
	if col == "" {
		return nil
	}
	return json.Unmarshal([]byte(col), v)
}

func scanMessages(rows *sql.Rows, err error) ([]*chatcore.Message, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	msgs := []*chatcore.Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	}
	return msgs, rows.Err()
}

// AppendMessage stores m, assigning m.Seq and normalising m.CreatedAt in
// place, and returns m with its attachments; or, when the sender already
// sent m.ClientID in this conversation, the stored original with
// created=false. An empty ClientID is never deduplicated. ENotFound if the
// conversation does not exist; EInvalid for attachments that are not the
// sender's completed uploads; ETooLarge past chatcore.MaxAttachments.
//
// Messages without attachments are group-committed (group_commit.go): the
// call returns once the transaction holding it and its neighbours commits.
func (s *Store) AppendMessage(ctx context.Context, m *chatcore.Message, attachmentIDs []string) (*chatcore.Message, bool, error) {
	m.CreatedAt = UTC(m.CreatedAt)
	prepareMessage(m)
	if len(attachmentIDs) > chatcore.MaxAttachments {
		return nil, false, chatcore.Errorf(chatcore.ETooLarge, "at most %d attachments per message", chatcore.MaxAttachments)
	}
	if len(attachmentIDs) == 0 && !s.gc.cfg.Off {
		return s.appendGrouped(ctx, m)
	}
	return s.appendOne(ctx, m, attachmentIDs)
}

// appendOne is AppendMessage in a transaction of its own.
func (s *Store) appendOne(ctx context.Context, m *chatcore.Message, attachmentIDs []string) (*chatcore.Message, bool, error) {
	var err error
	if len(attachmentIDs) == 0 && s.d.AppendMessageSQL != "" {
		var seq, change int64
		err = s.write.QueryRowContext(ctx, s.d.AppendMessageSQL,
			m.ID, m.ConversationID, m.ClientID, m.SenderID, m.Body, m.ReplyToSeq, s.t(m.CreatedAt),
			string(m.Kind), mentionsCol(m), jsonCol(m.System), jsonCol(m.Location)).Scan(&seq, &change)
		switch {
		case errors.Is(err, sql.ErrNoRows) && m.ClientID == "":
			return nil, false, s.appendFailed(ctx, m) // no conversation, or not a member
		case errors.Is(err, sql.ErrNoRows), s.d.IsUniqueViolation(err):
			err = errDuplicate // or no conversation: told apart below
		}
		if err == nil {
			m.Seq, m.ChangeID, m.Attachments = seq, change, []*chatcore.Attachment{}
		}
	} else {
		var existing *chatcore.Message
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			existing, err = s.appendTx(ctx, tx, m, attachmentIDs)
			return err
		})
		if err == nil && existing != nil {
			return existing, false, nil
		}
	}
	if errors.Is(err, errDuplicate) {
		// A concurrent retry of the same client_id won; return its message.
		orig, err := s.messageByClientID(ctx, s.read, m.ConversationID, m.SenderID, m.ClientID)
		if err != nil {
			if chatcore.ErrorCode(err) == chatcore.ENotFound {
				return nil, false, s.appendFailed(ctx, m)
			}
			return nil, false, fmt.Errorf("append message: %w", err)
		}
		return orig, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("append message: %w", err)
	}
	return m, true, nil
}

// appendFailed explains an append that stored nothing and found no
// original: the conversation is gone, the sender is not a member, or the
// message id is taken.
func (s *Store) appendFailed(ctx context.Context, m *chatcore.Message) error {
	if err := s.checkAppendable(ctx, s.read, m); err != nil {
		return err
	}
	return chatcore.Errorf(chatcore.EConflict, "message %s exists", m.ID)
}

// errNotMember is what an append by someone not (or no longer) a member of
// the conversation returns.
func errNotMember() error {
	return chatcore.Errorf(chatcore.EForbidden, "not a member of this conversation")
}

// checkAppendable returns ENotFound when m's conversation does not exist,
// EForbidden when its sender is not a member or, in a direct conversation,
// is blocked by the other member (system messages, written by the server,
// may name one who just left).
func (s *Store) checkAppendable(ctx context.Context, q queryer, m *chatcore.Message) error {
	var exists, member, blocked bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1),
	EXISTS (SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2),
	EXISTS (SELECT 1 FROM conversations cv JOIN members o ON o.conversation_id = cv.id
		JOIN blocks b ON b.blocker_id = o.user_id AND b.blocked_id = $2
		WHERE cv.id = $1 AND cv.kind = 'direct')`, m.ConversationID, m.SenderID).Scan(&exists, &member, &blocked)
	switch {
	case err != nil:
		return fmt.Errorf("append message: %w", err)
	case !exists:
		return chatcore.Errorf(chatcore.ENotFound, "no conversation %s", m.ConversationID)
	case m.Kind == chatcore.MessageSystem:
	case !member:
		return errNotMember()
	case blocked:
		return chatcore.Errorf(chatcore.EForbidden, "this user does not accept messages from you")
	}
	return nil
}

// appendTx is AppendMessage in a transaction. It returns the original when
// client_id was used before, errDuplicate when the insert loses a race.
func (s *Store) appendTx(ctx context.Context, tx *sql.Tx, m *chatcore.Message, attachmentIDs []string) (*chatcore.Message, error) {
	if m.ClientID != "" {
		orig, err := s.messageByClientID(ctx, tx, m.ConversationID, m.SenderID, m.ClientID)
		if err == nil {
			return orig, nil
		}
		if chatcore.ErrorCode(err) != chatcore.ENotFound {
			return nil, err
		}
	}
	// Before any write, so that a refused message leaves the batch it is
	// in untouched (appendBatch).
	if err := s.checkAppendable(ctx, tx, m); err != nil {
		return nil, err
	}
	atts, err := s.attachable(ctx, tx, m.SenderID, attachmentIDs)
	if err != nil {
		return nil, err
	}
	var seq int64
	err = tx.QueryRowContext(ctx,
		`UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = $2 WHERE id = $1 RETURNING last_seq`,
		m.ConversationID, s.t(m.CreatedAt)).Scan(&seq)
	if err != nil {
		return nil, notFound(err, "no conversation %s", m.ConversationID)
	}
	var change int64
	err = tx.QueryRowContext(ctx, `INSERT INTO messages (id, conversation_id, seq, client_id, sender_id, body, reply_to_seq, created_at,
kind, mentions, system, location, change_id)
VALUES ($1, $2, $3, NULLIF(CAST($4 AS TEXT), ''), $5, $6, $7, $8, $9, $10, $11, $12, `+s.d.ChangeIDExpr+`) RETURNING change_id`,
		m.ID, m.ConversationID, seq, m.ClientID, m.SenderID, m.Body, m.ReplyToSeq, s.t(m.CreatedAt),
		string(m.Kind), mentionsCol(m), jsonCol(m.System), jsonCol(m.Location)).Scan(&change)
	if s.d.IsUniqueViolation(err) {
		return nil, errDuplicate
	}
	if err != nil {
		return nil, err
	}
	if len(atts) > 0 {
		args := make([]any, 0, 4*len(atts))
		values := ""
		for i, a := range atts {
			if i > 0 {
				values += ", "
			}
			values += "(" + placeholders(4*i+1, 4) + ")"
			args = append(args, m.ID, a.ID, m.ConversationID, i)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO message_attachments (message_id, attachment_id, conversation_id, position) VALUES `+values, args...); err != nil {
			return nil, fmt.Errorf("link attachments: %w", err)
		}
	}
	m.Seq, m.ChangeID, m.Attachments = seq, change, atts
	return nil, nil
}

// attachable loads the attachments in the order given and checks that each
// is the sender's and completed.
func (s *Store) attachable(ctx context.Context, q queryer, senderID string, ids []string) ([]*chatcore.Attachment, error) {
	atts := []*chatcore.Attachment{}
	if len(ids) == 0 {
		return atts, nil
	}
	if len(dedupe(ids)) != len(ids) {
		return nil, chatcore.Errorf(chatcore.EInvalid, "an attachment is listed twice")
	}
	cond, args := s.in("a.id", 1, ids)
	rows, err := q.QueryContext(ctx, `SELECT `+attachmentCols+` FROM attachments a WHERE `+cond+s.d.ShareLock, args...)
	if err != nil {
		return nil, fmt.Errorf("load attachments: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]*chatcore.Attachment, len(ids))
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, fmt.Errorf("load attachments: %w", err)
		}
		byID[a.ID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load attachments: %w", err)
	}
	for _, id := range ids {
		a := byID[id]
		switch {
		case a == nil || a.UploaderID != senderID:
			return nil, chatcore.Errorf(chatcore.EInvalid, "attachment %s is not one of your uploads", id)
		case a.Status == chatcore.StatusPending:
			return nil, chatcore.Errorf(chatcore.EInvalid, "attachment %s is not completed", id)
		}
		atts = append(atts, a)
	}
	return atts, nil
}

// messageByClientID returns the message with its attachments; ENotFound if none.
func (s *Store) messageByClientID(ctx context.Context, q queryer, conversationID, senderID, clientID string) (*chatcore.Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, `SELECT `+messageCols+` FROM messages m
WHERE m.conversation_id = $1 AND m.sender_id = $2 AND m.client_id = $3`, conversationID, senderID, clientID))
	if err != nil {
		return nil, notFound(err, "no message %s", clientID)
	}
	if err := s.fillAttachments(ctx, q, []*chatcore.Message{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// ListMessages returns a page of history with attachments: seq < Before
// newest first; seq > After oldest first when Forward; else the newest page.
// Limit defaults to chatcore.DefaultMessagesPage and is capped at MaxMessagesPage.
func (s *Store) ListMessages(ctx context.Context, conversationID string, q chatcore.MessageQuery) ([]*chatcore.Message, error) {
	limit := clampLimit(q.Limit, chatcore.DefaultMessagesPage, chatcore.MaxMessagesPage)
	const sel = `SELECT ` + messageCols + ` FROM messages m WHERE m.conversation_id = $1 `
	var rows *sql.Rows
	var err error
	switch {
	case q.Before > 0:
		rows, err = s.read.QueryContext(ctx, sel+`AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3`, conversationID, q.Before, limit)
	case q.Forward:
		rows, err = s.read.QueryContext(ctx, sel+`AND m.seq > $2 ORDER BY m.seq LIMIT $3`, conversationID, q.After, limit)
	default:
		rows, err = s.read.QueryContext(ctx, sel+`ORDER BY m.seq DESC LIMIT $2`, conversationID, limit)
	}
	msgs, err := scanMessages(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	if err := s.fillAttachments(ctx, s.read, msgs); err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return msgs, nil
}

// fillAttachments loads the attachments of msgs in one query.
func (s *Store) fillAttachments(ctx context.Context, q queryer, msgs []*chatcore.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	byID := make(map[string]*chatcore.Message, len(msgs))
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m.Attachments = []*chatcore.Attachment{}
		byID[m.ID] = m
		ids = append(ids, m.ID)
	}
	cond, args := s.in("ma.message_id", 1, ids)
	rows, err := q.QueryContext(ctx, `SELECT ma.message_id, `+attachmentCols+`
FROM message_attachments ma JOIN attachments a ON a.id = ma.attachment_id
WHERE `+cond+` ORDER BY ma.message_id, ma.position`, args...)
	if err != nil {
		return fmt.Errorf("load attachments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var msgID string
		a, err := scanAttachment(rows, &msgID)
		if err != nil {
			return fmt.Errorf("load attachments: %w", err)
		}
		if m := byID[msgID]; m != nil {
			m.Attachments = append(m.Attachments, a)
		}
	}
	return rows.Err()
}

// MessageJSONCols returns the mentions, system and location columns of m
// as AppendMessage stores them (JSON text, ” when absent), for adapters
// that write messages themselves.
func MessageJSONCols(m *chatcore.Message) (mentions, system, location string) {
	return mentionsCol(m), jsonCol(m.System), jsonCol(m.Location)
}
