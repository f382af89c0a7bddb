-- Issue 11: one sync feed (GET /v1/sync). Every change a member must learn
-- about carries a change id from one sequence, stamped by the database so
-- that every writer (sends, edits, deletes, reactions, receipts, workers
-- finishing attachments) gets cursors without code of its own:
--   messages.change_id     on insert (column default: no extra statement
--                          per send) and again on every edit, tombstone,
--                          reaction added or removed, attachment ready/failed
--   members.change_id      on join and whenever the receipt moves
--   members.joined_change  the change id at which the membership began
--   conversations.change_id when the title changes (creation is the join)
--   member_departures      one row per removal or leave, so the member
--                          learns of it and nothing after it
-- One row per message or member is its latest state: compaction is free.
-- Rows that existed before this migration keep change id 0 (no device had
-- a cursor then; fresh devices read them through the conversation list).
CREATE SEQUENCE sync_change_seq;

ALTER TABLE messages ADD COLUMN change_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ALTER COLUMN change_id SET DEFAULT nextval('sync_change_seq');
CREATE INDEX messages_change ON messages (conversation_id, change_id);

ALTER TABLE members ADD COLUMN change_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN joined_change BIGINT NOT NULL DEFAULT 0;

ALTER TABLE conversations ADD COLUMN change_id BIGINT NOT NULL DEFAULT 0;

CREATE TABLE member_departures (
	user_id         TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	joined_change   BIGINT NOT NULL,
	change_id       BIGINT NOT NULL DEFAULT nextval('sync_change_seq'),
	left_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, change_id)
);

-- sync_marks: (time, last change id handed out then), written every few
-- seconds by each serve node. They bound which changes may still have been
-- in flight (allocated, not yet committed) when a cursor was issued.
CREATE TABLE sync_marks (
	at        TIMESTAMPTZ PRIMARY KEY,
	change_id BIGINT NOT NULL
);
-- sync_horizon: cursors below it are too old to serve (410): the marks
-- and departures they would need were pruned.
CREATE TABLE sync_horizon (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	change_id BIGINT NOT NULL
);
INSERT INTO sync_horizon (id, change_id) VALUES (1, 0);

CREATE FUNCTION sync_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.change_id := nextval('sync_change_seq');
	RETURN NEW;
END $$;

CREATE FUNCTION sync_member_joined() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.change_id := nextval('sync_change_seq');
	NEW.joined_change := NEW.change_id;
	RETURN NEW;
END $$;

CREATE FUNCTION sync_member_left() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO member_departures (user_id, conversation_id, joined_change) VALUES (OLD.user_id, OLD.conversation_id, OLD.joined_change);
	RETURN NULL;
END $$;

CREATE FUNCTION sync_reaction_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	r reactions;
BEGIN
	IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
	UPDATE messages SET change_id = nextval('sync_change_seq') WHERE conversation_id = r.conversation_id AND seq = r.seq;
	RETURN NULL;
END $$;

CREATE FUNCTION sync_attachment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE messages SET change_id = nextval('sync_change_seq')
	WHERE id IN (SELECT message_id FROM message_attachments WHERE attachment_id = NEW.id);
	RETURN NULL;
END $$;

CREATE TRIGGER messages_sync_changed BEFORE UPDATE OF body, edited_at, deleted_at, mentions, location, system, kind ON messages
	FOR EACH ROW EXECUTE FUNCTION sync_bump();
CREATE TRIGGER members_sync_joined BEFORE INSERT ON members
	FOR EACH ROW EXECUTE FUNCTION sync_member_joined();
CREATE TRIGGER members_sync_receipt BEFORE UPDATE OF delivered_seq, read_seq ON members
	FOR EACH ROW EXECUTE FUNCTION sync_bump();
CREATE TRIGGER members_sync_left AFTER DELETE ON members
	FOR EACH ROW EXECUTE FUNCTION sync_member_left();
CREATE TRIGGER conversations_sync_title BEFORE UPDATE OF title ON conversations
	FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION sync_bump();
CREATE TRIGGER reactions_sync_changed AFTER INSERT OR DELETE ON reactions
	FOR EACH ROW EXECUTE FUNCTION sync_reaction_changed();
CREATE TRIGGER attachments_sync_status AFTER UPDATE OF status ON attachments
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION sync_attachment_changed();
