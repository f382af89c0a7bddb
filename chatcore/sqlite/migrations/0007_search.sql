-- Full-text search over message bodies (GET /v1/search): an FTS5 external
-- content table on messages (rowid = messages.rowid), kept in sync by the
-- triggers below: an edit re-indexes, a deletion or an emptied body (a
-- deleted message) removes. unicode61 lower-cases and keeps diacritics, as
-- Postgres's "simple" configuration does. Never VACUUM without rebuilding
-- it: messages has no INTEGER PRIMARY KEY, so VACUUM may renumber rowids
-- (INSERT INTO messages_fts(messages_fts) VALUES ('rebuild') repairs it).
CREATE VIRTUAL TABLE messages_fts USING fts5(body, content = 'messages', tokenize = 'unicode61 remove_diacritics 0');
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
	INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
	INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
