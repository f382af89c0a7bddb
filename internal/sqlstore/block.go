package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.BlockStore = (*Store)(nil)

// PutBlock records a block unless blockerID already blocks max users.
// The count and the insert are two statements: two concurrent blocks may
// pass the cap by one, which bounds nothing that matters.
func (s *Store) PutBlock(ctx context.Context, blockerID, blockedID string, now time.Time, max int) (bool, error) {
	var exists, n int
	if err := s.write.QueryRowContext(ctx,
		`SELECT COUNT(*), COALESCE(SUM(CASE WHEN blocked_id = $2 THEN 1 ELSE 0 END), 0) FROM blocks WHERE blocker_id = $1`,
		blockerID, blockedID).Scan(&n, &exists); err != nil {
		return false, fmt.Errorf("put block: %w", err)
	}
	if exists > 0 {
		return false, nil
	}
	if n >= max {
		return false, chatcore.Errorf(chatcore.ETooLarge, "blocking %d users already", n)
	}
	res, err := s.write.ExecContext(ctx,
		`INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		blockerID, blockedID, s.t(UTC(now)))
	switch {
	case s.d.IsForeignKeyViolation(err):
		return false, chatcore.Errorf(chatcore.ENotFound, "no such user")
	case err != nil:
		return false, fmt.Errorf("put block: %w", err)
	}
	k, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("put block: %w", err)
	}
	return k == 1, nil
}

// DeleteBlock removes a block and reports whether there was one.
func (s *Store) DeleteBlock(ctx context.Context, blockerID, blockedID string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blockerID, blockedID)
	if err != nil {
		return false, fmt.Errorf("delete block: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete block: %w", err)
	}
	return n > 0, nil
}

// Blocks lists whom blockerID blocks, newest first.
func (s *Store) Blocks(ctx context.Context, blockerID string, limit int) ([]chatcore.Block, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT blocked_id, created_at FROM blocks WHERE blocker_id = $1 ORDER BY created_at DESC, blocked_id LIMIT $2`,
		blockerID, limit)
	if err != nil {
		return nil, fmt.Errorf("blocks: %w", err)
	}
	defer rows.Close()
	out := []chatcore.Block{}
	for rows.Next() {
		var b chatcore.Block
		var at timeCol
		if err := rows.Scan(&b.UserID, &at); err != nil {
			return nil, fmt.Errorf("blocks: %w", err)
		}
		b.CreatedAt = at.T
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("blocks: %w", err)
	}
	return out, nil
}

// BlockRelations reads both directions in one query.
func (s *Store) BlockRelations(ctx context.Context, userID string) (chatcore.BlockRelations, error) {
	rel := chatcore.BlockRelations{Blocks: map[string]bool{}, BlockedBy: map[string]bool{}}
	rows, err := s.read.QueryContext(ctx,
		`SELECT blocked_id, 0 FROM blocks WHERE blocker_id = $1 UNION ALL SELECT blocker_id, 1 FROM blocks WHERE blocked_id = $1`,
		userID)
	if err != nil {
		return rel, fmt.Errorf("block relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var by int
		if err := rows.Scan(&id, &by); err != nil {
			return rel, fmt.Errorf("block relations: %w", err)
		}
		if by == 1 {
			rel.BlockedBy[id] = true
		} else {
			rel.Blocks[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return rel, fmt.Errorf("block relations: %w", err)
	}
	return rel, nil
}

// GroupAddPolicies returns each user's policy, everyone by default.
func (s *Store) GroupAddPolicies(ctx context.Context, userIDs []string) (map[string]chatcore.GroupAddPolicy, error) {
	out := make(map[string]chatcore.GroupAddPolicy, len(userIDs))
	ids := dedupe(userIDs)
	for _, id := range ids {
		out[id] = chatcore.GroupAddEveryone
	}
	if len(ids) == 0 {
		return out, nil
	}
	cond, args := s.in("user_id", 1, ids)
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, group_add FROM safety_settings WHERE `+cond, args...)
	if err != nil {
		return nil, fmt.Errorf("group add policies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, fmt.Errorf("group add policies: %w", err)
		}
		out[id] = chatcore.GroupAddPolicy(p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("group add policies: %w", err)
	}
	return out, nil
}

// SetGroupAddPolicy stores a user's policy.
func (s *Store) SetGroupAddPolicy(ctx context.Context, userID string, p chatcore.GroupAddPolicy) error {
	_, err := s.write.ExecContext(ctx,
		`INSERT INTO safety_settings (user_id, group_add) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET group_add = excluded.group_add`, userID, string(p))
	switch {
	case s.d.IsForeignKeyViolation(err):
		return chatcore.Errorf(chatcore.ENotFound, "no user %s", userID)
	case err != nil:
		return fmt.Errorf("set group add policy: %w", err)
	}
	return nil
}

// DirectPeers returns those of among who share a direct conversation with
// userID, looked up by the conversations' direct keys.
func (s *Store) DirectPeers(ctx context.Context, userID string, among []string) ([]string, error) {
	among = dedupe(among)
	if len(among) == 0 {
		return nil, nil
	}
	byKey := make(map[string]string, len(among))
	keys := make([]string, 0, len(among))
	for _, id := range among {
		k := directKey(userID, id)
		byKey[k] = id
		keys = append(keys, k)
	}
	cond, args := s.in("direct_key", 1, keys)
	found, err := scanStrings(s.read.QueryContext(ctx, `SELECT direct_key FROM conversations WHERE `+cond, args...))
	if err != nil {
		return nil, fmt.Errorf("direct peers: %w", err)
	}
	out := make([]string, 0, len(found))
	for _, k := range found {
		out = append(out, byKey[k])
	}
	return out, nil
}

// MembersBlocking reads the members and who of them blocks userID in one
// query (a LEFT JOIN on the blocks primary key).
func (s *Store) MembersBlocking(ctx context.Context, convID, userID string) ([]string, map[string]bool, error) {
	rows, err := s.read.QueryContext(ctx,
		`SELECT m.user_id, CASE WHEN b.blocker_id IS NULL THEN 0 ELSE 1 END
FROM members m LEFT JOIN blocks b ON b.blocker_id = m.user_id AND b.blocked_id = $2
WHERE m.conversation_id = $1 ORDER BY m.joined_at, m.user_id`, convID, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("members blocking: %w", err)
	}
	defer rows.Close()
	var members []string
	var blockers map[string]bool
	for rows.Next() {
		var id string
		var blocks int
		if err := rows.Scan(&id, &blocks); err != nil {
			return nil, nil, fmt.Errorf("members blocking: %w", err)
		}
		members = append(members, id)
		if blocks == 1 {
			if blockers == nil {
				blockers = map[string]bool{}
			}
			blockers[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("members blocking: %w", err)
	}
	return members, blockers, nil
}

// sharedConvs selects the conversations both $1 and $2 are members of.
const sharedConvs = `SELECT x.conversation_id FROM members x JOIN members y ON y.conversation_id = x.conversation_id
	WHERE x.user_id = $1 AND y.user_id = $2`

// RestampSharedReceipts re-stamps (the receipt triggers of migration 0008
// fire on any update of the receipt columns) and returns the receipts of a
// and b in their shared conversations.
func (s *Store) RestampSharedReceipts(ctx context.Context, a, b string) ([]chatcore.Receipt, error) {
	if _, err := s.write.ExecContext(ctx, `UPDATE members SET delivered_seq = delivered_seq
WHERE user_id IN ($1, $2) AND conversation_id IN (`+sharedConvs+`)`, a, b); err != nil {
		return nil, fmt.Errorf("restamp shared receipts: %w", err)
	}
	rs, err := scanReceipts(s.write.QueryContext(ctx, `SELECT conversation_id, user_id, delivered_seq, read_seq, change_id FROM members
WHERE user_id IN ($1, $2) AND conversation_id IN (`+sharedConvs+`) ORDER BY conversation_id, user_id`, a, b))
	if err != nil {
		return nil, fmt.Errorf("restamp shared receipts: %w", err)
	}
	return rs, nil
}
