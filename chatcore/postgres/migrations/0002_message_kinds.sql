-- Issue 11: message kinds (text, media, location, system), mentions,
-- edits and tombstones, reactions, and member roles in groups.
-- JSON-valued columns are TEXT holding JSON ('' when absent) so both stores
-- read them the same way.
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '';  -- JSON array of user ids
ALTER TABLE messages ADD COLUMN system TEXT NOT NULL DEFAULT '';    -- JSON object for kind=system
ALTER TABLE messages ADD COLUMN location TEXT NOT NULL DEFAULT '';  -- JSON object for kind=location
ALTER TABLE messages ADD COLUMN edited_at TIMESTAMPTZ;
ALTER TABLE messages ADD COLUMN deleted_at TIMESTAMPTZ;

ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'; -- owner | admin | member

CREATE TABLE reactions (
	conversation_id TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	emoji           TEXT NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (conversation_id, seq, emoji, user_id),
	FOREIGN KEY (conversation_id, seq) REFERENCES messages (conversation_id, seq) ON DELETE CASCADE
);
