package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/chatcore"
)

// AdvanceReceipt raises userID's delivered and read positions, read raising
// delivered too, both clamped to the conversation's last seq. The UPDATE
// only ever raises values, so concurrent calls need no transaction: the
// clamp may use a last_seq a moment old, which is still a valid bound.
// ENotFound if userID is not a member.
func (s *Store) AdvanceReceipt(ctx context.Context, conversationID, userID string, delivered, read int64) (chatcore.Receipt, bool, error) {
	r := chatcore.Receipt{ConversationID: conversationID, UserID: userID}
	var lastSeq int64
	err := s.read.QueryRowContext(ctx, `SELECT c.last_seq, me.delivered_seq, me.read_seq
FROM members me JOIN conversations c ON c.id = me.conversation_id
WHERE me.conversation_id = $1 AND me.user_id = $2`, conversationID, userID).Scan(&lastSeq, &r.DeliveredSeq, &r.ReadSeq)
	if err != nil {
		return r, false, fmt.Errorf("advance receipt: %w", notFound(err, "%s is not a member of %s", userID, conversationID))
	}
	read = min(max(read, 0), lastSeq)
	delivered = min(max(delivered, read), lastSeq)
	if delivered <= r.DeliveredSeq && read <= r.ReadSeq {
		return r, false, nil
	}
	err = s.write.QueryRowContext(ctx, `UPDATE members SET
	delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END,
	read_seq = CASE WHEN read_seq < $4 THEN $4 ELSE read_seq END
WHERE conversation_id = $1 AND user_id = $2 AND (delivered_seq < $3 OR read_seq < $4)
RETURNING delivered_seq, read_seq, change_id`, conversationID, userID, delivered, read).Scan(&r.DeliveredSeq, &r.ReadSeq, &r.ChangeID)
	switch {
	case err == nil:
		if s.d.StampsAfterWrite {
			r.ChangeID, err = s.restamp(ctx, s.write, `SELECT change_id FROM members WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID)
			if err != nil {
				return r, true, fmt.Errorf("advance receipt: %w", err)
			}
		}
		return r, true, nil
	case errors.Is(err, sql.ErrNoRows):
		// Left meanwhile, or a concurrent call moved further already.
		err = s.read.QueryRowContext(ctx, `SELECT delivered_seq, read_seq FROM members WHERE conversation_id = $1 AND user_id = $2`,
			conversationID, userID).Scan(&r.DeliveredSeq, &r.ReadSeq)
		if err != nil {
			return r, false, fmt.Errorf("advance receipt: %w", notFound(err, "%s is not a member of %s", userID, conversationID))
		}
		return r, false, nil
	default:
		return r, false, fmt.Errorf("advance receipt: %w", err)
	}
}

// scanReceipts collects rows of (conversation_id, user_id, delivered_seq,
// read_seq, change_id).
func scanReceipts(rows *sql.Rows, err error) ([]chatcore.Receipt, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []chatcore.Receipt{}
	for rows.Next() {
		var r chatcore.Receipt
		if err := rows.Scan(&r.ConversationID, &r.UserID, &r.DeliveredSeq, &r.ReadSeq, &r.ChangeID); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
