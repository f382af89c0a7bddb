package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/internal/sqlstore"
)

// appendBatchSQL stores a group-committed batch in one statement, one
// round trip and one commit. The arguments are parallel arrays (id,
// conversation_id, client_id, sender_id, body, reply_to_seq, created_at,
// kind, mentions, system, location). Messages whose client_id their sender
// already used in the conversation are left out, and so are those (but
// system messages) whose sender is not a member, or is blocked by the
// other member of a direct conversation: the send path's member lists and
// blocks are cached, the authority is this statement. Each conversation's row
// is locked in id order (so two nodes' batches cannot deadlock), its
// last_seq raised by its count of new messages, and the messages numbered
// after the old last_seq in batch order. A concurrent duplicate that
// commits first fails the whole statement on the unique index: nothing is
// stored and sqlstore retries each message alone.
const appendBatchSQL = `WITH input AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[],
		$8::text[], $9::text[], $10::text[], $11::text[]) WITH ORDINALITY
		AS t(id, conversation_id, client_id, sender_id, body, reply_to_seq, created_at, kind, mentions, system, location, ord)
), fresh AS (
	SELECT i.* FROM input i WHERE NOT EXISTS (
		SELECT 1 FROM messages m
		WHERE m.conversation_id = i.conversation_id AND m.sender_id = i.sender_id AND m.client_id = NULLIF(i.client_id, ''))
	AND (i.kind = 'system' OR (EXISTS (
		SELECT 1 FROM members mb WHERE mb.conversation_id = i.conversation_id AND mb.user_id = i.sender_id)
	AND NOT EXISTS (
		SELECT 1 FROM conversations cv JOIN members o ON o.conversation_id = cv.id
		JOIN blocks b ON b.blocker_id = o.user_id AND b.blocked_id = i.sender_id
		WHERE cv.id = i.conversation_id AND cv.kind = 'direct')))
), counts AS (
	SELECT conversation_id, count(*) AS n, max(created_at) AS at FROM fresh GROUP BY conversation_id
), locked AS (
	SELECT c.id FROM conversations c WHERE c.id IN (SELECT conversation_id FROM counts) ORDER BY c.id FOR UPDATE
), bumped AS (
	UPDATE conversations c SET last_seq = c.last_seq + counts.n, last_activity_at = counts.at
	FROM counts JOIN locked ON locked.id = counts.conversation_id
	WHERE c.id = counts.conversation_id
	RETURNING c.id, c.last_seq - counts.n AS base
)
INSERT INTO messages (id, conversation_id, seq, client_id, sender_id, body, reply_to_seq, created_at, kind, mentions, system, location)
SELECT f.id, f.conversation_id, b.base + row_number() OVER (PARTITION BY f.conversation_id ORDER BY f.ord),
	NULLIF(f.client_id, ''), f.sender_id, f.body, f.reply_to_seq, f.created_at, f.kind, f.mentions, f.system, f.location
FROM fresh f JOIN bumped b ON b.id = f.conversation_id
RETURNING id, seq, change_id`

// appendBatch runs appendBatchSQL over msgs.
func appendBatch(ctx context.Context, db *sql.DB, msgs []*chatcore.Message) ([]int64, error) {
	n := len(msgs)
	ids, convs, clients, senders, bodies := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	replies, created := make([]int64, n), make([]time.Time, n)
	kinds, mentions, systems, locations := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, m := range msgs {
		ids[i], convs[i], clients[i], senders[i], bodies[i] = m.ID, m.ConversationID, m.ClientID, m.SenderID, m.Body
		replies[i], created[i] = m.ReplyToSeq, sqlstore.UTC(m.CreatedAt)
		kinds[i] = string(m.Kind)
		mentions[i], systems[i], locations[i] = sqlstore.MessageJSONCols(m)
	}
	rows, err := db.QueryContext(ctx, appendBatchSQL, ids, convs, clients, senders, bodies, replies, created,
		kinds, mentions, systems, locations)
	if err != nil {
		return nil, err
	}
	return sqlstore.BatchSeqs(msgs, rows)
}
