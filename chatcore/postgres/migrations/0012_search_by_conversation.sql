-- Search is always scoped to the caller's conversations. A GIN index over
-- body_tsv alone finds a word's matches in every conversation and only then
-- keeps the caller's (at 1,000,000 messages, p95 232 ms). With btree_gin the
-- index also holds conversation_id, so one index scan per member
-- conversation intersects that conversation's entries with the words'
-- (docs/benchmarks.md, "Message search"). btree_gin ships with PostgreSQL
-- (contrib) and is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX messages_conversation_body_tsv ON messages USING GIN (conversation_id, body_tsv);
DROP INDEX messages_body_tsv;
