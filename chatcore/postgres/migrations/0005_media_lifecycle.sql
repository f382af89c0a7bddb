-- Media lifecycle (issue 13): animated images, the step a video is at
-- while its playback variant is made, and the SHA-256 of the uploaded
-- bytes, by which a repeated upload finds the objects it can reuse.
ALTER TABLE attachments ADD COLUMN animated BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE attachments ADD COLUMN frame_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attachments ADD COLUMN step TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
-- A forwarded attachment points at another's objects; it uploaded nothing,
-- so it does not count against its owner's quota.
ALTER TABLE attachments ADD COLUMN forwarded_from TEXT NOT NULL DEFAULT '';
CREATE INDEX attachments_sha256 ON attachments (sha256) WHERE sha256 <> '';
CREATE INDEX attachments_object_key ON attachments (object_key);
