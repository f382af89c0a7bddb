-- Issue 11: one sync feed (GET /v1/sync); see the Postgres migration of
-- the same number for the design. SQLite has no sequences: sync_counter
-- holds the last change id handed out, and the triggers below raise it.
-- SQLite has one writer at a time, so change ids commit in order.
-- A row whose change_id is set to -1 gets the next change id from
-- messages_sync_assign: that is how reactions and attachments bump every
-- message they touch, each with an id of its own.
CREATE TABLE sync_counter (
	id    INTEGER PRIMARY KEY CHECK (id = 1),
	value INTEGER NOT NULL
);
INSERT INTO sync_counter (id, value) VALUES (1, 0);

ALTER TABLE messages ADD COLUMN change_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_change ON messages (conversation_id, change_id);

ALTER TABLE members ADD COLUMN change_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN joined_change INTEGER NOT NULL DEFAULT 0;

ALTER TABLE conversations ADD COLUMN change_id INTEGER NOT NULL DEFAULT 0;

CREATE TABLE member_departures (
	user_id         TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	joined_change   INTEGER NOT NULL,
	change_id       INTEGER NOT NULL,
	left_at         INTEGER NOT NULL,
	PRIMARY KEY (user_id, change_id)
);

CREATE TABLE sync_marks (
	at        INTEGER PRIMARY KEY,
	change_id INTEGER NOT NULL
);
CREATE TABLE sync_horizon (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	change_id INTEGER NOT NULL
);
INSERT INTO sync_horizon (id, change_id) VALUES (1, 0);

-- Sends insert change_id = counter + 1 themselves (sqlstore's
-- Dialect.ChangeIDExpr), so RETURNING sees it and a send costs one counter
-- update; an insert that leaves it 0 gets one from messages_sync_assign.
CREATE TRIGGER messages_sync_insert AFTER INSERT ON messages WHEN new.change_id > 0 BEGIN
	UPDATE sync_counter SET value = new.change_id WHERE id = 1;
END;

CREATE TRIGGER messages_sync_insert_unstamped AFTER INSERT ON messages WHEN new.change_id <= 0 BEGIN
	UPDATE messages SET change_id = -1 WHERE rowid = new.rowid;
END;

CREATE TRIGGER messages_sync_assign AFTER UPDATE OF change_id ON messages WHEN new.change_id < 0 BEGIN
	UPDATE sync_counter SET value = value + 1 WHERE id = 1;
	UPDATE messages SET change_id = (SELECT value FROM sync_counter WHERE id = 1) WHERE rowid = new.rowid;
END;

CREATE TRIGGER messages_sync_changed AFTER UPDATE OF body, edited_at, deleted_at, mentions, location, system, kind ON messages BEGIN
	UPDATE messages SET change_id = -1 WHERE rowid = new.rowid;
END;

CREATE TRIGGER reactions_sync_insert AFTER INSERT ON reactions BEGIN
	UPDATE messages SET change_id = -1 WHERE conversation_id = new.conversation_id AND seq = new.seq;
END;

CREATE TRIGGER reactions_sync_delete AFTER DELETE ON reactions BEGIN
	UPDATE messages SET change_id = -1 WHERE conversation_id = old.conversation_id AND seq = old.seq;
END;

CREATE TRIGGER attachments_sync_status AFTER UPDATE OF status ON attachments WHEN old.status IS NOT new.status BEGIN
	UPDATE messages SET change_id = -1 WHERE id IN (SELECT message_id FROM message_attachments WHERE attachment_id = new.id);
END;

CREATE TRIGGER members_sync_joined AFTER INSERT ON members BEGIN
	UPDATE sync_counter SET value = value + 1 WHERE id = 1;
	UPDATE members SET change_id = (SELECT value FROM sync_counter WHERE id = 1), joined_change = (SELECT value FROM sync_counter WHERE id = 1)
	WHERE rowid = new.rowid;
END;

CREATE TRIGGER members_sync_receipt AFTER UPDATE OF delivered_seq, read_seq ON members BEGIN
	UPDATE sync_counter SET value = value + 1 WHERE id = 1;
	UPDATE members SET change_id = (SELECT value FROM sync_counter WHERE id = 1) WHERE rowid = new.rowid;
END;

CREATE TRIGGER members_sync_left AFTER DELETE ON members BEGIN
	UPDATE sync_counter SET value = value + 1 WHERE id = 1;
	INSERT INTO member_departures (user_id, conversation_id, joined_change, change_id, left_at)
	VALUES (old.user_id, old.conversation_id, old.joined_change, (SELECT value FROM sync_counter WHERE id = 1),
		CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;

CREATE TRIGGER conversations_sync_title AFTER UPDATE OF title ON conversations WHEN old.title IS NOT new.title BEGIN
	UPDATE sync_counter SET value = value + 1 WHERE id = 1;
	UPDATE conversations SET change_id = (SELECT value FROM sync_counter WHERE id = 1) WHERE id = new.id;
END;
