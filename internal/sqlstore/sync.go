package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// The sync feed reads what migration 0008's triggers stamp: a change id on
// every message, member and renamed conversation row, and a row per
// departure. A row holds its latest state, so the feed is compacted by
// construction: three edits of a message are one change.

// SyncHead returns the last change id handed out.
func (s *Store) SyncHead(ctx context.Context) (int64, error) {
	var head int64
	if err := s.read.QueryRowContext(ctx, s.d.SyncHeadSQL).Scan(&head); err != nil {
		return 0, fmt.Errorf("sync head: %w", err)
	}
	return head, nil
}

// syncHorizon returns the oldest change id a cursor may name.
func (s *Store) syncHorizon(ctx context.Context) (int64, error) {
	var h int64
	if err := s.read.QueryRowContext(ctx, `SELECT change_id FROM sync_horizon WHERE id = 1`).Scan(&h); err != nil {
		return 0, fmt.Errorf("sync horizon: %w", err)
	}
	return h, nil
}

// MarkSync records the counter's value at time at.
func (s *Store) MarkSync(ctx context.Context, at time.Time) error {
	head, err := s.SyncHead(ctx)
	if err != nil {
		return err
	}
	_, err = s.write.ExecContext(ctx, `INSERT INTO sync_marks (at, change_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, s.t(UTC(at)), head)
	if err != nil {
		return fmt.Errorf("mark sync: %w", err)
	}
	return nil
}

// SyncFloor returns the largest mark at least lag older than the newest
// mark below x, or the horizon when there is none.
func (s *Store) SyncFloor(ctx context.Context, x int64, lag time.Duration) (int64, error) {
	var newest timeCol
	if err := s.read.QueryRowContext(ctx, `SELECT MAX(at) FROM sync_marks WHERE change_id < $1`, x).Scan(&newest); err != nil {
		return 0, fmt.Errorf("sync floor: %w", err)
	}
	var floor sql.NullInt64
	if newest.Valid {
		if err := s.read.QueryRowContext(ctx, `SELECT MAX(change_id) FROM sync_marks WHERE at <= $1`,
			s.t(newest.T.Add(-lag))).Scan(&floor); err != nil {
			return 0, fmt.Errorf("sync floor: %w", err)
		}
	}
	h, err := s.syncHorizon(ctx)
	if err != nil {
		return 0, err
	}
	if !floor.Valid || floor.Int64 < h {
		return h, nil
	}
	return min(floor.Int64, x), nil
}

// PruneSync drops marks before `before` and the departures they cover and
// raises the horizon to the newest dropped mark.
func (s *Store) PruneSync(ctx context.Context, before time.Time) (int64, error) {
	var horizon int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var newest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT MAX(change_id) FROM sync_marks WHERE at < $1`, s.t(UTC(before))).Scan(&newest); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `UPDATE sync_horizon SET change_id = CASE WHEN change_id < $1 THEN $1 ELSE change_id END
WHERE id = 1 RETURNING change_id`, newest.Int64).Scan(&horizon); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sync_marks WHERE at < $1`, s.t(UTC(before))); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM member_departures WHERE change_id <= $1`, horizon)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("prune sync: %w", err)
	}
	return horizon, nil
}

// noUpper stands for "no end" in the membership ranges below.
const noUpper = math.MaxInt64

// SyncChanges returns userID's changes after since, oldest first. Each of
// the four kinds is read with its own limit+1 and the lists merged, so
// the first limit changes overall are among them.
func (s *Store) SyncChanges(ctx context.Context, userID string, since int64, limit int) ([]chatcore.SyncChange, bool, error) {
	limit = clampLimit(limit, chatcore.DefaultSyncPage, chatcore.MaxSyncPage)
	h, err := s.syncHorizon(ctx)
	if err != nil {
		return nil, false, err
	}
	if since < h {
		return nil, false, chatcore.Errorf(chatcore.EGone, "sync cursor is too old; start again without one")
	}
	var all []chatcore.SyncChange
	for _, read := range []func(context.Context, string, int64, int) ([]chatcore.SyncChange, error){
		s.syncMessages, s.syncReceipts, s.syncConversations, s.syncDepartures,
	} {
		cs, err := read(ctx, userID, since, limit+1)
		if err != nil {
			return nil, false, fmt.Errorf("sync changes: %w", err)
		}
		all = append(all, cs...)
	}
	slices.SortFunc(all, func(a, b chatcore.SyncChange) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	more := len(all) > limit
	if more {
		all = all[:limit]
	}
	var msgs []*chatcore.Message
	for _, c := range all {
		if c.Message != nil {
			msgs = append(msgs, c.Message)
		}
	}
	if err := s.fillAttachments(ctx, s.read, msgs); err != nil {
		return nil, false, fmt.Errorf("sync changes: %w", err)
	}
	if all == nil {
		all = []chatcore.SyncChange{}
	}
	return all, more, nil
}

// syncMessages: messages of the conversations userID is in (changed since
// they joined) or was in (changed before they left).
func (s *Store) syncMessages(ctx context.Context, userID string, since int64, limit int) ([]chatcore.SyncChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+messageCols+` FROM (
	SELECT conversation_id, joined_change AS lo, CAST($4 AS BIGINT) AS hi FROM members WHERE user_id = $1
	UNION ALL
	SELECT conversation_id, joined_change, change_id FROM member_departures WHERE user_id = $1 AND change_id > $2
) r JOIN messages m ON m.conversation_id = r.conversation_id
WHERE m.change_id > $2 AND m.change_id > r.lo AND m.change_id < r.hi
ORDER BY m.change_id LIMIT $3`, userID, since, limit, int64(noUpper))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chatcore.SyncChange
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, chatcore.SyncChange{ID: m.ChangeID, Type: chatcore.ChangeMessage, ConversationID: m.ConversationID, Message: m})
	}
	return out, rows.Err()
}

// syncReceipts: receipts of everyone in userID's conversations, moved
// since userID joined.
func (s *Store) syncReceipts(ctx context.Context, userID string, since int64, limit int) ([]chatcore.SyncChange, error) {
	rs, err := scanReceipts(s.read.QueryContext(ctx, `SELECT o.conversation_id, o.user_id, o.delivered_seq, o.read_seq, o.change_id
FROM members me JOIN members o ON o.conversation_id = me.conversation_id
WHERE me.user_id = $1 AND o.change_id > $2 AND o.change_id > me.joined_change AND o.change_id > o.joined_change
ORDER BY o.change_id LIMIT $3`, userID, since, limit))
	if err != nil {
		return nil, err
	}
	var out []chatcore.SyncChange
	for i := range rs {
		r := &rs[i]
		out = append(out, chatcore.SyncChange{ID: r.ChangeID, Type: chatcore.ChangeReceipt, ConversationID: r.ConversationID, Receipt: r})
	}
	return out, nil
}

// syncConversations: conversations userID joined, or whose title changed,
// after since; one change each, at the later of the two.
func (s *Store) syncConversations(ctx context.Context, userID string, since int64, limit int) ([]chatcore.SyncChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT me.conversation_id,
	CASE WHEN c.change_id > me.joined_change THEN c.change_id ELSE me.joined_change END AS change_id
FROM members me JOIN conversations c ON c.id = me.conversation_id
WHERE me.user_id = $1 AND (me.joined_change > $2 OR c.change_id > $2)
ORDER BY 2 LIMIT $3`, userID, since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chatcore.SyncChange
	for rows.Next() {
		c := chatcore.SyncChange{Type: chatcore.ChangeConversation}
		if err := rows.Scan(&c.ConversationID, &c.ID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// syncDepartures: userID leaving or being removed.
func (s *Store) syncDepartures(ctx context.Context, userID string, since int64, limit int) ([]chatcore.SyncChange, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT conversation_id, change_id FROM member_departures
WHERE user_id = $1 AND change_id > $2 ORDER BY change_id LIMIT $3`, userID, since, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chatcore.SyncChange
	for rows.Next() {
		c := chatcore.SyncChange{Type: chatcore.ChangeRemoved}
		if err := rows.Scan(&c.ConversationID, &c.ID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// restamp reads the change id a trigger wrote after the row (engines whose
// RETURNING does not see AFTER triggers).
func (s *Store) restamp(ctx context.Context, q queryer, query string, args ...any) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}
