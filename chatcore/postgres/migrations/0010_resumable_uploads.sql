-- Resumable uploads and immutable verified bytes (issue 13, issue 12).
-- upload_key: where a single-request upload's presigned URL writes; complete
-- copies it to object_key (which no URL can write) and the janitor deletes
-- it once the URL has expired. multipart_id and part_size: the store's
-- multipart upload of a large upload, whose parts go to object_key.
ALTER TABLE attachments ADD COLUMN upload_key TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN multipart_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN part_size BIGINT NOT NULL DEFAULT 0;
CREATE INDEX attachments_upload_key ON attachments (expires_at) WHERE upload_key <> '' AND status <> 'pending';
CREATE INDEX attachments_step ON attachments (updated_at) WHERE step <> '';
