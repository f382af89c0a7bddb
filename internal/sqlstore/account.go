package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.AccountStore = (*Store)(nil)

// TouchSession upserts the session's description and last use.
func (s *Store) TouchSession(ctx context.Context, userID string, ss *chatcore.Session) error {
	created, used := UTC(ss.CreatedAt), UTC(ss.LastUsedAt)
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions (id, user_id, device_name, platform, ip, created_at, last_used_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET
	device_name = CASE WHEN excluded.device_name = '' THEN sessions.device_name ELSE excluded.device_name END,
	platform = CASE WHEN excluded.platform = '' THEN sessions.platform ELSE excluded.platform END,
	ip = CASE WHEN excluded.ip = '' THEN sessions.ip ELSE excluded.ip END,
	last_used_at = excluded.last_used_at
WHERE sessions.user_id = excluded.user_id`,
		ss.ID, userID, ss.DeviceName, ss.Platform, ss.IP, s.t(created), s.t(used))
	if s.d.IsForeignKeyViolation(err) {
		return chatcore.Errorf(chatcore.ENotFound, "no user %s", userID)
	}
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// ListSessions returns the user's live sessions, most recently used first.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]*chatcore.Session, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, device_name, platform, ip, created_at, last_used_at FROM sessions ss
WHERE ss.user_id = $1 AND EXISTS (SELECT 1 FROM refresh_tokens r
	WHERE r.family_id = ss.id AND r.revoked_at IS NULL AND r.used_at IS NULL AND r.expires_at > $2)
ORDER BY ss.last_used_at DESC, ss.id`, userID, s.t(UTC(now)))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []*chatcore.Session{}
	for rows.Next() {
		var ss chatcore.Session
		var created, used timeCol
		if err := rows.Scan(&ss.ID, &ss.DeviceName, &ss.Platform, &ss.IP, &created, &used); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		ss.CreatedAt, ss.LastUsedAt = created.T, used.T
		out = append(out, &ss)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// SessionUser returns the owner of a refresh-token family.
func (s *Store) SessionUser(ctx context.Context, sessionID string) (string, error) {
	var userID string
	err := s.read.QueryRowContext(ctx, `SELECT user_id FROM refresh_tokens WHERE family_id = $1 LIMIT 1`, sessionID).Scan(&userID)
	if err != nil {
		return "", fmt.Errorf("session user: %w", notFound(err, "no session %s", sessionID))
	}
	return userID, nil
}

// RevokeOtherSessions revokes the user's live tokens outside family keep.
func (s *Store) RevokeOtherSessions(ctx context.Context, userID, keep string, now time.Time) ([]string, error) {
	fams, err := scanStrings(s.write.QueryContext(ctx,
		`UPDATE refresh_tokens SET revoked_at = $3 WHERE user_id = $1 AND family_id <> $2 AND revoked_at IS NULL RETURNING family_id`,
		userID, keep, s.t(UTC(now))))
	if err != nil {
		return nil, fmt.Errorf("revoke other sessions: %w", err)
	}
	slices.Sort(fams)
	return slices.Compact(fams), nil
}

// UpdateProfile sets the display name and avatar that c names.
func (s *Store) UpdateProfile(ctx context.Context, userID string, c chatcore.ProfileChange) (*chatcore.User, error) {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if c.DisplayName != nil {
			res, err := tx.ExecContext(ctx, `UPDATE users SET display_name = $2 WHERE id = $1`, userID, *c.DisplayName)
			if err != nil {
				return fmt.Errorf("update profile: %w", err)
			}
			if err := mustAffect(res, "no user %s", userID); err != nil {
				return err
			}
		}
		if c.Avatar != nil {
			res, err := tx.ExecContext(ctx, `UPDATE users SET avatar_id = $2, avatar_blurhash = $3 WHERE id = $1`,
				userID, c.Avatar.ID, c.Avatar.Blurhash)
			if err != nil {
				return fmt.Errorf("update profile: %w", err)
			}
			if err := mustAffect(res, "no user %s", userID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.UserByID(ctx, userID)
}

// PasswordHash returns the user's password hash.
func (s *Store) PasswordHash(ctx context.Context, userID string) (string, error) {
	var hash string
	if err := s.read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE id = $1`, userID).Scan(&hash); err != nil {
		return "", fmt.Errorf("password hash: %w", notFound(err, "no user %s", userID))
	}
	return hash, nil
}

const deletionCols = `user_id, requested_by, status, requested_at, finished_at, username_free_at, messages, attachments`

func scanDeletion(row interface{ Scan(...any) error }) (*chatcore.AccountDeletion, error) {
	var d chatcore.AccountDeletion
	var requested, finished, free timeCol
	var status string
	if err := row.Scan(&d.UserID, &d.RequestedBy, &status, &requested, &finished, &free, &d.Messages, &d.Attachments); err != nil {
		return nil, err
	}
	d.Status = chatcore.DeletionStatus(status)
	d.RequestedAt, d.FinishedAt, d.UsernameFreeAt = requested.T, finished.ptr(), free.T
	return &d, nil
}

// MarkAccountDeleted erases the profile and records the deletion.
func (s *Store) MarkAccountDeleted(ctx context.Context, d *chatcore.AccountDeletion) (*chatcore.AccountDeletion, bool, error) {
	var rec *chatcore.AccountDeletion
	created := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		old, err := scanDeletion(tx.QueryRowContext(ctx, `SELECT `+deletionCols+` FROM account_deletions WHERE user_id = $1`, d.UserID))
		if err == nil {
			rec = old
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("mark account deleted: %w", err)
		}
		// An empty hash never verifies: nobody can log in any more.
		res, err := tx.ExecContext(ctx, `UPDATE users SET display_name = $2, password_hash = '', avatar_id = '', avatar_blurhash = '', deleted_at = $3 WHERE id = $1`,
			d.UserID, chatcore.DeletedDisplayName, s.t(UTC(d.RequestedAt)))
		if err != nil {
			return fmt.Errorf("mark account deleted: %w", err)
		}
		if err := mustAffect(res, "no user %s", d.UserID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_deletions (`+deletionCols+`) VALUES ($1, $2, $3, $4, NULL, $5, 0, 0)`,
			d.UserID, d.RequestedBy, string(chatcore.DeletionPending), s.t(UTC(d.RequestedAt)), s.t(UTC(d.UsernameFreeAt))); err != nil {
			return fmt.Errorf("mark account deleted: %w", err)
		}
		// Sessions' descriptions go with the account.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, d.UserID); err != nil {
			return fmt.Errorf("mark account deleted: %w", err)
		}
		created = true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if created {
		rec, err = s.AccountDeletion(ctx, d.UserID)
		if err != nil {
			return nil, false, err
		}
	}
	return rec, created, nil
}

// AccountDeletion returns the deletion record of a user.
func (s *Store) AccountDeletion(ctx context.Context, userID string) (*chatcore.AccountDeletion, error) {
	d, err := scanDeletion(s.write.QueryRowContext(ctx, `SELECT `+deletionCols+` FROM account_deletions WHERE user_id = $1`, userID))
	if err != nil {
		return nil, fmt.Errorf("account deletion: %w", notFound(err, "no deletion of user %s", userID))
	}
	return d, nil
}

// FinishAccountDeletion marks a deletion done.
func (s *Store) FinishAccountDeletion(ctx context.Context, userID string, at time.Time, messages, attachments int64) error {
	res, err := s.write.ExecContext(ctx, `UPDATE account_deletions SET status = $2, finished_at = $3, messages = $4, attachments = $5 WHERE user_id = $1`,
		userID, string(chatcore.DeletionDone), s.t(UTC(at)), messages, attachments)
	if err != nil {
		return fmt.Errorf("finish account deletion: %w", err)
	}
	return mustAffect(res, "no deletion of user %s", userID)
}

// PendingAccountDeletions lists deletions still pending, oldest first.
func (s *Store) PendingAccountDeletions(ctx context.Context, before time.Time, limit int) ([]string, error) {
	ids, err := scanStrings(s.read.QueryContext(ctx,
		`SELECT user_id FROM account_deletions WHERE status = $1 AND requested_at < $2 ORDER BY requested_at, user_id LIMIT $3`,
		string(chatcore.DeletionPending), s.t(UTC(before)), limit))
	if err != nil {
		return nil, fmt.Errorf("pending account deletions: %w", err)
	}
	return ids, nil
}

// FreeDeletedUsernames frees the usernames whose cooling-off is over.
func (s *Store) FreeDeletedUsernames(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE users SET username = 'deleted-' || id
WHERE id IN (SELECT user_id FROM account_deletions WHERE username_free_at <= $1) AND username <> 'deleted-' || id`,
		s.t(UTC(now)))
	if err != nil {
		return 0, fmt.Errorf("free deleted usernames: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("free deleted usernames: %w", err)
	}
	return n, nil
}

// AttachmentIDsByUploader lists every attachment the user uploaded.
func (s *Store) AttachmentIDsByUploader(ctx context.Context, userID string) ([]string, error) {
	ids, err := scanStrings(s.read.QueryContext(ctx, `SELECT id FROM attachments WHERE uploader_id = $1 ORDER BY id`, userID))
	if err != nil {
		return nil, fmt.Errorf("attachments by uploader: %w", err)
	}
	return ids, nil
}

// MessagesBySender pages through the messages a user sent, in id order.
func (s *Store) MessagesBySender(ctx context.Context, userID, afterID string, limit int) ([]*chatcore.Message, error) {
	msgs, err := scanMessages(s.read.QueryContext(ctx,
		`SELECT `+messageCols+` FROM messages m WHERE m.sender_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3`,
		userID, afterID, clampLimit(limit, chatcore.DefaultMessagesPage, chatcore.MaxMessagesPage)))
	if err != nil {
		return nil, fmt.Errorf("messages by sender: %w", err)
	}
	if err := s.fillAttachments(ctx, s.read, msgs); err != nil {
		return nil, fmt.Errorf("messages by sender: %w", err)
	}
	return msgs, nil
}
