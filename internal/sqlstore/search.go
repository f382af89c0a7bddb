package sqlstore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/parley-chat/parley/chatcore"
)

// SearchMessages returns up to q.Limit messages of the conversations
// userID is a member of, sent at or after the member row's joined_at, whose
// body holds every term (the last as a prefix when q.Prefix), newest first.
// Deleted messages (deleted_at set, or an empty body) never match.
func (s *Store) SearchMessages(ctx context.Context, userID string, q chatcore.SearchQuery) ([]*chatcore.Message, error) {
	if len(q.Terms) == 0 {
		return []*chatcore.Message{}, nil
	}
	limit := clampLimit(q.Limit, chatcore.DefaultSearchPage, chatcore.MaxSearchPage)
	query := `SELECT ` + messageCols + ` FROM ` + s.d.SearchFrom + `
JOIN members mem ON mem.conversation_id = m.conversation_id AND mem.user_id = $1
WHERE ` + s.d.SearchWhere + ` AND m.body <> '' AND m.deleted_at IS NULL AND m.created_at >= mem.joined_at`
	args := append([]any{userID}, s.d.SearchMatch(q.Terms, q.Prefix)...)
	if !q.Before.IsZero() {
		args = append(args, s.t(q.Before))
		query += ` AND m.created_at < $` + strconv.Itoa(len(args))
	}
	if q.ConversationID != "" {
		args = append(args, q.ConversationID)
		query += ` AND m.conversation_id = $` + strconv.Itoa(len(args))
	}
	args = append(args, limit)
	query += ` ORDER BY m.created_at DESC, m.conversation_id DESC, m.seq DESC LIMIT $` + strconv.Itoa(len(args))
	msgs, err := scanMessages(s.read.QueryContext(ctx, query, args...))
	if err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	if err := s.fillAttachments(ctx, s.read, msgs); err != nil {
		return nil, fmt.Errorf("search messages: %w", err)
	}
	return msgs, nil
}
