-- Full-text search over message bodies (GET /v1/search). "simple": words
-- are lower-cased, never stemmed, so every language matches by word. The
-- column is generated, so an edit re-indexes and an emptied body (a
-- deleted message) matches nothing.
ALTER TABLE messages ADD COLUMN body_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_body_tsv ON messages USING GIN (body_tsv);
