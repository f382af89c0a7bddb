-- Issue 11 (edit and delete): attachments a deleted message unlinked wait
-- here for their grace period; a sweep then deletes their objects unless a
-- message links them again.
CREATE TABLE attachment_deletions (
	attachment_id TEXT PRIMARY KEY,
	due_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachment_deletions_due ON attachment_deletions (due_at);
