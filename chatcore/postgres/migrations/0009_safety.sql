-- Safety (issue 12): blocks, who may add a user to groups, reports with a
-- snapshot of what was reported, and disabled accounts.
CREATE TABLE blocks (
	blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	blocked_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

CREATE TABLE safety_settings (
	user_id   TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	group_add TEXT NOT NULL DEFAULT 'everyone' -- everyone | contacts | nobody
);

CREATE TABLE reports (
	id              TEXT PRIMARY KEY,
	reporter_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	target_user_id  TEXT NOT NULL, -- the reported user, or the message's sender; no FK: outlives the account
	conversation_id TEXT NOT NULL DEFAULT '',
	seq             BIGINT NOT NULL DEFAULT 0,
	snapshot        TEXT NOT NULL, -- JSON: the message (or profile) as it was when reported
	reason          TEXT NOT NULL,
	note            TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL, -- open | resolved
	created_at      TIMESTAMPTZ NOT NULL,
	resolved_at     TIMESTAMPTZ,
	resolved_by     TEXT NOT NULL DEFAULT '',
	resolution      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_reporter ON reports (reporter_id, created_at);

ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
