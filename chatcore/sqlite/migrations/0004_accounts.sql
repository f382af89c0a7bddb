-- Accounts (issue 12): what each session is (device, platform, where and
-- when it was last used), profile avatars, and account deletions an admin
-- can follow to the end.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY, -- refresh_tokens.family_id
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_name  TEXT NOT NULL DEFAULT '',
	platform     TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE users ADD COLUMN avatar_id TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN avatar_blurhash TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN deleted_at INTEGER;

CREATE INDEX users_avatar ON users (avatar_id) WHERE avatar_id <> '';

CREATE TABLE account_deletions (
	user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	requested_by     TEXT NOT NULL,
	status           TEXT NOT NULL, -- pending, done
	requested_at     INTEGER NOT NULL,
	finished_at      INTEGER,
	username_free_at INTEGER NOT NULL,
	messages         INTEGER NOT NULL DEFAULT 0,
	attachments      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX account_deletions_status ON account_deletions (status, requested_at);

-- Export and deletion walk the messages a user sent.
CREATE INDEX messages_sender ON messages (sender_id, id);
