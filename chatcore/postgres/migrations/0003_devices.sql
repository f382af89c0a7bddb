-- Push: devices bound to a session (refresh-token family) and members'
-- notification settings per conversation.
CREATE TABLE devices (
	id          TEXT PRIMARY KEY,
	user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	session_id  TEXT NOT NULL, -- refresh_tokens.family_id
	platform    TEXT NOT NULL,
	token       TEXT NOT NULL,
	app_id      TEXT NOT NULL,
	environment TEXT NOT NULL DEFAULT '',
	locale      TEXT NOT NULL DEFAULT '',
	app_version TEXT NOT NULL DEFAULT '',
	created_at  TIMESTAMPTZ NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	UNIQUE (platform, token)
);
CREATE INDEX devices_user ON devices (user_id);
CREATE INDEX devices_session ON devices (session_id);

CREATE TABLE notification_prefs (
	conversation_id TEXT NOT NULL,
	user_id         TEXT NOT NULL,
	level           TEXT NOT NULL,
	muted_until     TIMESTAMPTZ,
	PRIMARY KEY (conversation_id, user_id),
	FOREIGN KEY (conversation_id, user_id) REFERENCES members (conversation_id, user_id) ON DELETE CASCADE
);
