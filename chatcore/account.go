package chatcore

import (
	"context"
	"time"
)

// Session is one login as its owner sees it in GET /v1/me/sessions: a
// refresh-token family with what the client said it was and where it was
// last used. LastUsedAt and IP change on login and on every token refresh
// (about every AccessTTL), not on every request.
type Session struct {
	ID         string    `json:"id"`
	DeviceName string    `json:"device_name"`
	Platform   string    `json:"platform"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// Limits of what a client may say about itself.
const (
	MaxDeviceNameRunes = 64
	MaxPlatformRunes   = 32
)

// ClientInfo is what the edge knows of the client that logs in or
// refreshes: the device name and platform it declared (or its User-Agent)
// and its address. The auth service records it with the session.
type ClientInfo struct {
	DeviceName string
	Platform   string
	IP         string
}

type clientInfoKey struct{}

// WithClientInfo returns a context carrying the client's description.
func WithClientInfo(ctx context.Context, ci ClientInfo) context.Context {
	return context.WithValue(ctx, clientInfoKey{}, ci)
}

// ClientInfoFrom returns the client's description, zero if none.
func ClientInfoFrom(ctx context.Context) ClientInfo {
	ci, _ := ctx.Value(clientInfoKey{}).(ClientInfo)
	return ci
}

// DeletionStatus is how far an account deletion got.
type DeletionStatus string

const (
	// DeletionPending: sessions are revoked and the profile erased; the
	// job that tombstones messages and deletes objects has not finished.
	DeletionPending DeletionStatus = "pending"
	// DeletionDone: nothing of the account is left but its id, its
	// (reserved until UsernameFreeAt) username and, per the server
	// setting, its messages.
	DeletionDone DeletionStatus = "done"
)

// DeletedDisplayName replaces the display name of a deleted account.
const DeletedDisplayName = "Deleted account"

// AccountDeletion is the record of one account's deletion.
type AccountDeletion struct {
	UserID         string         `json:"user_id"`
	RequestedBy    string         `json:"requested_by"` // the user, or the admin who deleted them
	Status         DeletionStatus `json:"status"`
	RequestedAt    time.Time      `json:"requested_at"`
	FinishedAt     *time.Time     `json:"finished_at,omitempty"`
	UsernameFreeAt time.Time      `json:"username_free_at"`
	Messages       int64          `json:"messages_tombstoned"`
	Attachments    int64          `json:"attachments_deleted"`
}

// ProfileChange is what UpdateProfile stores: nil fields stay as they are.
type ProfileChange struct {
	DisplayName *string
	Avatar      *Avatar // a zero Avatar (ID "") removes it
}

// AccountStore keeps sessions' descriptions, profiles and account
// deletions. Both SQL adapters implement it (internal/sqlstore/account.go).
type AccountStore interface {
	// TouchSession records a session's client and last use, creating
	// the row on first use (created_at = s.CreatedAt). Empty device name
	// and platform keep what is stored.
	TouchSession(ctx context.Context, userID string, s *Session) error
	// ListSessions returns userID's sessions that still have a live
	// refresh token (not revoked, not expired at now), newest use first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]*Session, error)
	// SessionUser returns the owner of a session (refresh-token family);
	// ENotFound if there is none.
	SessionUser(ctx context.Context, sessionID string) (string, error)
	// RevokeOtherSessions revokes every live token of userID's families
	// but keep, and returns the families it revoked.
	RevokeOtherSessions(ctx context.Context, userID, keep string, now time.Time) ([]string, error)
	// UpdateProfile applies c and returns the user; ENotFound if none.
	UpdateProfile(ctx context.Context, userID string, c ProfileChange) (*User, error)
	// PasswordHash returns the user's password hash; ENotFound if none.
	PasswordHash(ctx context.Context, userID string) (string, error)

	// MarkAccountDeleted erases the profile (display name
	// DeletedDisplayName, no avatar, no password) and records d, in one
	// transaction. If the account was deleted already it changes nothing
	// and returns the existing record with created false.
	MarkAccountDeleted(ctx context.Context, d *AccountDeletion) (rec *AccountDeletion, created bool, err error)
	// AccountDeletion returns the deletion record; ENotFound if none.
	AccountDeletion(ctx context.Context, userID string) (*AccountDeletion, error)
	// FinishAccountDeletion marks the deletion done with its counts.
	FinishAccountDeletion(ctx context.Context, userID string, at time.Time, messages, attachments int64) error
	// PendingAccountDeletions lists up to limit users whose deletion was
	// requested before before and is still pending, oldest first.
	PendingAccountDeletions(ctx context.Context, before time.Time, limit int) ([]string, error)
	// FreeDeletedUsernames renames deleted accounts whose cooling-off
	// ended by now to "deleted-<id>", so their usernames can be taken
	// again, and returns how many it renamed.
	FreeDeletedUsernames(ctx context.Context, now time.Time) (int64, error)
	// AttachmentIDsByUploader lists every attachment userID uploaded
	// (forwards included), whatever its status.
	AttachmentIDsByUploader(ctx context.Context, userID string) ([]string, error)
	// MessagesBySender returns up to limit messages userID sent with an
	// id greater than afterID (ids are time-ordered), with attachments,
	// in id order.
	MessagesBySender(ctx context.Context, userID, afterID string, limit int) ([]*Message, error)
}

// Avatar is a user's profile picture: an attachment of kind avatar,
// processed into square crops (AvatarVariants) and served like any
// attachment, to anyone who may see the user.
type Avatar struct {
	ID       string `json:"id"` // the attachment id
	Blurhash string `json:"blurhash"`
	// URLs maps each variant to its download path (GET
	// /v1/attachments/{id}/{variant}, with the access token).
	URLs map[string]string `json:"urls"`
}

// AvatarVariants are the square crops made of an avatar, by name, largest first.
var AvatarVariants = []string{"avatar_512", "avatar_96"}

// NewAvatar returns the avatar of attachment id with its download paths; nil for id "".
func NewAvatar(id, blurhash string) *Avatar {
	if id == "" {
		return nil
	}
	a := &Avatar{ID: id, Blurhash: blurhash, URLs: make(map[string]string, len(AvatarVariants))}
	for _, v := range AvatarVariants {
		a.URLs[v] = "/v1/attachments/" + id + "/" + v
	}
	return a
}
