package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/chatcore"
)

const deviceCols = `id, user_id, session_id, platform, token, app_id, environment, locale, app_version, created_at, updated_at`

func scanDevice(row interface{ Scan(...any) error }) (*chatcore.Device, error) {
	var d chatcore.Device
	var created, updated timeCol
	if err := row.Scan(&d.ID, &d.UserID, &d.SessionID, &d.Platform, &d.Token, &d.AppID, &d.Environment,
		&d.Locale, &d.AppVersion, &created, &updated); err != nil {
		return nil, err
	}
	d.CreatedAt, d.UpdatedAt = created.T, updated.T
	return &d, nil
}

func (s *Store) queryDevices(ctx context.Context, q string, args ...any) ([]*chatcore.Device, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*chatcore.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpsertDevice stores d keyed by (platform, token) in one statement: a
// token already stored keeps its id and created_at and takes d's user,
// session and details. ENotFound if the user does not exist.
func (s *Store) UpsertDevice(ctx context.Context, d *chatcore.Device) error {
	d.CreatedAt, d.UpdatedAt = UTC(d.CreatedAt), UTC(d.UpdatedAt)
	got, err := scanDevice(s.write.QueryRowContext(ctx, `INSERT INTO devices (`+deviceCols+`)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (platform, token) DO UPDATE SET
	user_id = excluded.user_id, session_id = excluded.session_id, app_id = excluded.app_id,
	environment = excluded.environment, locale = excluded.locale, app_version = excluded.app_version,
	updated_at = excluded.updated_at
RETURNING `+deviceCols,
		d.ID, d.UserID, d.SessionID, d.Platform, d.Token, d.AppID, d.Environment, d.Locale, d.AppVersion,
		s.t(d.CreatedAt), s.t(d.UpdatedAt)))
	switch {
	case err == nil:
		*d = *got
		return nil
	case s.d.IsForeignKeyViolation(err):
		return chatcore.Errorf(chatcore.ENotFound, "no user %s", d.UserID)
	default:
		return fmt.Errorf("upsert device: %w", err)
	}
}

// Devices lists a user's devices, oldest first.
func (s *Store) Devices(ctx context.Context, userID string) ([]*chatcore.Device, error) {
	ds, err := s.queryDevices(ctx, `SELECT `+deviceCols+` FROM devices WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return ds, nil
}

// DevicesOfUsers lists the devices of several users.
func (s *Store) DevicesOfUsers(ctx context.Context, userIDs []string) ([]*chatcore.Device, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	cond, args := s.in("user_id", 1, dedupe(userIDs))
	ds, err := s.queryDevices(ctx, `SELECT `+deviceCols+` FROM devices WHERE `+cond+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list devices of users: %w", err)
	}
	return ds, nil
}

// DeleteDevice removes one of a user's devices; ENotFound if none.
func (s *Store) DeleteDevice(ctx context.Context, userID, deviceID string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM devices WHERE id = $1 AND user_id = $2`, deviceID, userID)
	if err != nil {
		return fmt.Errorf("delete device: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete device: %w", err)
	} else if n == 0 {
		return chatcore.Errorf(chatcore.ENotFound, "device not found")
	}
	return nil
}

// DeleteDeviceToken removes a device while it still holds token.
func (s *Store) DeleteDeviceToken(ctx context.Context, deviceID, token string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM devices WHERE id = $1 AND token = $2`, deviceID, token)
	if err != nil {
		return false, fmt.Errorf("delete dead device: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("delete dead device: %w", err)
	}
	return n > 0, nil
}

// DeleteSessionDevices removes the devices bound to a session.
func (s *Store) DeleteSessionDevices(ctx context.Context, sessionID string) (int, error) {
	return s.deleteDevices(ctx, `DELETE FROM devices WHERE session_id = $1`, sessionID)
}

// DeleteUserDevices removes all of a user's devices.
func (s *Store) DeleteUserDevices(ctx context.Context, userID string) (int, error) {
	return s.deleteDevices(ctx, `DELETE FROM devices WHERE user_id = $1`, userID)
}

func (s *Store) deleteDevices(ctx context.Context, q, arg string) (int, error) {
	res, err := s.write.ExecContext(ctx, q, arg)
	if err != nil {
		return 0, fmt.Errorf("delete devices: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete devices: %w", err)
	}
	return int(n), nil
}

// CountDevices counts devices by platform.
func (s *Store) CountDevices(ctx context.Context) (map[string]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT platform, COUNT(*) FROM devices GROUP BY platform`)
	if err != nil {
		return nil, fmt.Errorf("count devices: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("count devices: %w", err)
		}
		out[p] = n
	}
	return out, rows.Err()
}

// SetNotificationPref stores a member's level and mute; ENotFound if the
// user is not a member (the foreign key to members says so).
func (s *Store) SetNotificationPref(ctx context.Context, p chatcore.NotificationPref) error {
	var muted any
	if p.MutedUntil != nil {
		muted = s.t(UTC(*p.MutedUntil))
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO notification_prefs (conversation_id, user_id, level, muted_until)
VALUES ($1, $2, $3, $4)
ON CONFLICT (conversation_id, user_id) DO UPDATE SET level = excluded.level, muted_until = excluded.muted_until`,
		p.ConversationID, p.UserID, p.Level, muted)
	switch {
	case err == nil:
		return nil
	case s.d.IsForeignKeyViolation(err):
		return chatcore.Errorf(chatcore.ENotFound, "%s is not a member of %s", p.UserID, p.ConversationID)
	default:
		return fmt.Errorf("set notification pref: %w", err)
	}
}

// NotificationPrefs returns the stored preferences of users in a conversation.
func (s *Store) NotificationPrefs(ctx context.Context, conversationID string, userIDs []string) (map[string]chatcore.NotificationPref, error) {
	out := map[string]chatcore.NotificationPref{}
	if len(userIDs) == 0 {
		return out, nil
	}
	cond, args := s.in("user_id", 2, dedupe(userIDs))
	rows, err := s.read.QueryContext(ctx, `SELECT user_id, level, muted_until FROM notification_prefs
WHERE conversation_id = $1 AND `+cond, append([]any{conversationID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("notification prefs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p := chatcore.NotificationPref{ConversationID: conversationID}
		var muted timeCol
		if err := rows.Scan(&p.UserID, &p.Level, &muted); err != nil {
			return nil, fmt.Errorf("notification prefs: %w", err)
		}
		p.MutedUntil = muted.ptr()
		out[p.UserID] = p
	}
	return out, rows.Err()
}

// UnreadCount counts messages from others (system messages and
// tombstones excepted)
// after the user's read position
// in all their conversations, stopping at limit so a huge backlog costs no
// more than limit index entries.
func (s *Store) UnreadCount(ctx context.Context, userID string, limit int) (int, error) {
	var n int
	err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM (
	SELECT 1 FROM members me
	JOIN messages m ON m.conversation_id = me.conversation_id AND m.seq > me.read_seq
	WHERE me.user_id = $1 AND `+unreadFilter+`
	LIMIT $2) AS unread`, userID, limit).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("unread count: %w", err)
	}
	return n, nil
}
