-- Times are timestamptz (microseconds, UTC on the wire). JSON columns are jsonb.
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT COLLATE "C" NOT NULL UNIQUE, -- lower-case; "C" so prefix LIKE uses the index
	display_name  TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	family_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ,
	revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE conversations (
	id               TEXT PRIMARY KEY,
	kind             TEXT NOT NULL,
	title            TEXT NOT NULL DEFAULT '',
	created_by       TEXT NOT NULL,
	created_at       TIMESTAMPTZ NOT NULL,
	last_seq         BIGINT NOT NULL DEFAULT 0,
	last_activity_at TIMESTAMPTZ NOT NULL,
	direct_key       TEXT UNIQUE -- "a b" with a < b; NULL for groups
);

CREATE TABLE members (
	conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	joined_at       TIMESTAMPTZ NOT NULL,
	delivered_seq   BIGINT NOT NULL DEFAULT 0,
	read_seq        BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE messages (
	conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
	seq             BIGINT NOT NULL,
	id              TEXT NOT NULL UNIQUE,
	client_id       TEXT, -- NULL: not deduplicated
	sender_id       TEXT NOT NULL REFERENCES users (id),
	body            TEXT NOT NULL,
	reply_to_seq    BIGINT NOT NULL DEFAULT 0,
	created_at      TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client ON messages (conversation_id, sender_id, client_id);

CREATE TABLE attachments (
	id              TEXT PRIMARY KEY,
	uploader_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind            TEXT NOT NULL,
	status          TEXT NOT NULL,
	content_type    TEXT NOT NULL,
	size            BIGINT NOT NULL,
	filename        TEXT NOT NULL,
	width           INTEGER NOT NULL DEFAULT 0,
	height          INTEGER NOT NULL DEFAULT 0,
	duration_ms     BIGINT NOT NULL DEFAULT 0,
	blurhash        TEXT NOT NULL DEFAULT '',
	waveform        JSONB NOT NULL DEFAULT 'null',
	variants        JSONB NOT NULL DEFAULT 'null',
	error           TEXT NOT NULL DEFAULT '',
	object_key      TEXT NOT NULL,
	conversation_id TEXT NOT NULL DEFAULT '', -- declared at upload; not a link
	created_at      TIMESTAMPTZ NOT NULL,
	updated_at      TIMESTAMPTZ NOT NULL,
	expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_status ON attachments (status, updated_at);
CREATE INDEX attachments_uploader ON attachments (uploader_id, created_at);

CREATE TABLE message_attachments (
	message_id      TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
	attachment_id   TEXT NOT NULL REFERENCES attachments (id),
	conversation_id TEXT NOT NULL,
	position        INTEGER NOT NULL,
	PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_attachment ON message_attachments (attachment_id, conversation_id);
