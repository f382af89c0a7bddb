package chatcore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Defaults of AccountConfig.
const (
	// DefaultUsernameHold is how long a deleted account's username stays
	// reserved, so nobody can pose as the person who just left.
	DefaultUsernameHold = 30 * 24 * time.Hour
	// DefaultDeletionRetryAfter is how old a pending deletion must be
	// before Sweep enqueues its job again (the first enqueue was lost).
	DefaultDeletionRetryAfter = time.Minute
	// exportPage is how many rows Export holds in memory at once.
	exportPage = 200
)

// CloseAccountDeleted is the Event.Close reason of the sockets of an
// account that was just deleted (next to the reasons of socket_cap.go).
const CloseAccountDeleted = "account_deleted"

// CloseSessionRevoked is the Event.Close reason of the sockets of a
// session that was revoked (another session changed the password, the
// session was revoked from the session list, or it logged out).
const CloseSessionRevoked = "session_revoked"

// AccountJobs enqueues the heavy part of an account deletion (Purge) as
// a background job. workers.AccountJobs implements it with asynq.
type AccountJobs interface {
	// EnqueueAccountPurge schedules Purge(userID); enqueueing the same
	// user twice while the first is queued or retained is not an error.
	EnqueueAccountPurge(ctx context.Context, userID string) error
}

// AttachmentObjects deletes an attachment's objects from the object
// store (upload.Lifecycle implements it): idempotent, objects another
// attachment still shares are kept.
type AttachmentObjects interface {
	DeleteAttachmentObjects(ctx context.Context, id string) error
}

// AccountConfig configures the AccountService. Every zero field is a
// documented default.
type AccountConfig struct {
	// Jobs runs Purge in the background; nil: Delete purges before it
	// returns (tests, and nodes without a queue).
	Jobs AccountJobs
	// Objects deletes a deleted account's uploads; nil: no object store,
	// attachments are only expired.
	Objects AttachmentObjects
	// UsernameHold is the cooling-off before a deleted account's username
	// may be registered again; zero = DefaultUsernameHold.
	UsernameHold time.Duration
	// KeepMessages keeps a deleted account's messages (shown from
	// "Deleted account"); false (default) turns them into tombstones.
	KeepMessages bool
}

// ProfileUpdate is PATCH /v1/me: nil fields stay as they are. An empty
// AvatarUploadID removes the avatar.
type ProfileUpdate struct {
	DisplayName    *string `json:"display_name"`
	AvatarUploadID *string `json:"avatar_upload_id"`
}

// AccountService is what a user does with their own account — password,
// sessions, profile, deletion, export — and the admin's deletion of
// someone else's.
type AccountService interface {
	// ChangePassword checks current and sets next, then revokes every
	// session of the user but sessionID (the caller's), with their push
	// devices. Errors: EForbidden (current is wrong), EInvalid (next is
	// not 8–256 bytes), ERateLimited (hashing slots busy).
	ChangePassword(ctx context.Context, userID, sessionID, current, next string) error
	// Sessions lists the user's live sessions; the one with id
	// currentSessionID is marked Current. Only internal errors.
	Sessions(ctx context.Context, userID, currentSessionID string) ([]*Session, error)
	// RevokeSession logs one of the user's sessions out: its refresh
	// token stops at once and its access tokens are refused on every node
	// (they share the store). ENotFound if the user has no such session.
	RevokeSession(ctx context.Context, userID, sessionID string) error
	// UpdateProfile sets the display name (cleaned as names are: NFC, no
	// zero-width or bidi controls, 1–64 characters) and the avatar (a
	// ready avatar attachment the user uploaded). Errors: EInvalid.
	UpdateProfile(ctx context.Context, userID string, req ProfileUpdate) (*User, error)
	// DeleteSelf checks the password and deletes the account (Delete).
	// Errors: EForbidden (wrong password), ERateLimited.
	DeleteSelf(ctx context.Context, userID, password string) (*AccountDeletion, error)
	// Delete deletes an account on behalf of by (the user or an admin):
	// at once, its sessions and devices are revoked and its profile
	// erased; then a job (Purge) tombstones its messages (unless the
	// server keeps them) and deletes its uploads' objects. Deleting a
	// deleted account returns its record. Errors: ENotFound.
	Delete(ctx context.Context, userID, by string) (*AccountDeletion, error)
	// Deletion returns how far an account's deletion got. ENotFound if
	// the account was not deleted.
	Deletion(ctx context.Context, userID string) (*AccountDeletion, error)
	// Purge is the heavy part of a deletion, run by the job; idempotent.
	// ENotFound if the account was not deleted.
	Purge(ctx context.Context, userID string) error
	// Sweep re-enqueues deletions whose job was lost and frees usernames
	// whose cooling-off is over; chat nodes run it every minute.
	Sweep(ctx context.Context) error
	// Export writes the user's data as one JSON document (profile,
	// conversations, the messages they sent with attachment links),
	// streamed page by page so memory stays bounded. An error after the
	// first byte leaves the document cut short.
	Export(ctx context.Context, userID string, w io.Writer) error
}

// accountService implements AccountService.
type accountService struct {
	*deps
	auth     *authService
	accounts AccountStore
	cfg      AccountConfig
}

// NewAccountService returns the AccountService over the services s (it
// shares their store, clock and password hashing). The store must be an
// AccountStore (both SQL adapters are).
func NewAccountService(s *Services, cfg AccountConfig) (AccountService, error) {
	as, ok := s.deps.store.(AccountStore)
	if !ok {
		return nil, errors.New("chatcore: account service: the store keeps no accounts (not an AccountStore)")
	}
	auth, ok := s.Auth.(*authService)
	if !ok {
		return nil, errors.New("chatcore: account service: Services.Auth was replaced")
	}
	if cfg.UsernameHold < 0 {
		return nil, errors.New("chatcore: account service: negative UsernameHold")
	}
	if cfg.UsernameHold == 0 {
		cfg.UsernameHold = DefaultUsernameHold
	}
	return &accountService{deps: s.deps, auth: auth, accounts: as, cfg: cfg}, nil
}

// checkPassword verifies password against the user's hash through the
// hashing slots. EForbidden when wrong.
func (s *accountService) checkPassword(ctx context.Context, userID, password string) error {
	hash, err := s.accounts.PasswordHash(ctx, userID)
	if err != nil {
		return internalError("check password", err)
	}
	var ok bool
	if err := s.auth.hashes.do(ctx, func() { ok = verifyPassword(hash, password) }); err != nil {
		return err
	}
	if !ok || len(password) > MaxPasswordBytes {
		return Errorf(EForbidden, "password is incorrect")
	}
	return nil
}

func (s *accountService) ChangePassword(ctx context.Context, userID, sessionID, current, next string) error {
	if err := validatePassword(next); err != nil {
		return Errorf(EInvalid, "new %s", err.(*Error).Message)
	}
	if err := s.checkPassword(ctx, userID, current); err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return internalError("change password", err)
	}
	var hash string
	if gerr := s.auth.hashes.do(ctx, func() { hash, err = s.auth.hashPassword(next) }); gerr != nil {
		return gerr
	}
	if err != nil {
		return internalError("change password", err)
	}
	if err := s.store.SetUserCredentials(ctx, userID, u.Role, hash); err != nil {
		return internalError("change password", err)
	}
	fams, err := s.accounts.RevokeOtherSessions(ctx, userID, sessionID, s.clock.Now())
	if err != nil {
		return internalError("change password", err)
	}
	// Their open sockets close on every node now, not at token expiry.
	s.closeSessionSockets(ctx, userID, fams, CloseSessionRevoked)
	return s.removeDevices(ctx, fams, "change password")
}

// removeDevices removes the push devices of revoked sessions.
func (s *accountService) removeDevices(ctx context.Context, sessions []string, op string) error {
	if s.devices == nil {
		return nil
	}
	for _, f := range sessions {
		if _, err := s.devices.DeleteSessionDevices(ctx, f); err != nil {
			return internalError(op, err)
		}
	}
	return nil
}

func (s *accountService) Sessions(ctx context.Context, userID, currentSessionID string) ([]*Session, error) {
	ss, err := s.accounts.ListSessions(ctx, userID, s.clock.Now())
	if err != nil {
		return nil, internalError("list sessions", err)
	}
	for _, x := range ss {
		x.Current = x.ID == currentSessionID
	}
	return ss, nil
}

func (s *accountService) RevokeSession(ctx context.Context, userID, sessionID string) error {
	owner, err := s.accounts.SessionUser(ctx, sessionID)
	if ErrorCode(err) == ENotFound || (err == nil && owner != userID) {
		return Errorf(ENotFound, "no session %s", sessionID)
	}
	if err != nil {
		return internalError("revoke session", err)
	}
	if err := s.store.RevokeRefreshFamily(ctx, sessionID, s.clock.Now()); err != nil {
		return internalError("revoke session", err)
	}
	s.closeSessionSockets(ctx, userID, []string{sessionID}, CloseSessionRevoked)
	return s.removeDevices(ctx, []string{sessionID}, "revoke session")
}

func (s *accountService) UpdateProfile(ctx context.Context, userID string, req ProfileUpdate) (*User, error) {
	var c ProfileChange
	if req.DisplayName != nil {
		name, err := cleanName(*req.DisplayName, "display name", MaxDisplayNameRunes)
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, Errorf(EInvalid, "display name must not be empty")
		}
		c.DisplayName = &name
	}
	if req.AvatarUploadID != nil {
		av, err := s.avatar(ctx, userID, *req.AvatarUploadID)
		if err != nil {
			return nil, err
		}
		c.Avatar = av
	}
	u, err := s.accounts.UpdateProfile(ctx, userID, c)
	if err != nil {
		return nil, internalError("update profile", err)
	}
	return u, nil
}

// avatar checks that id is a ready avatar the user uploaded; "" removes it.
func (s *accountService) avatar(ctx context.Context, userID, id string) (*Avatar, error) {
	if id == "" {
		return &Avatar{}, nil
	}
	a, err := s.store.AttachmentByID(ctx, id)
	if ErrorCode(err) == ENotFound || (err == nil && a.UploaderID != userID) {
		return nil, Errorf(EInvalid, "avatar_upload_id: no upload %s of yours", id)
	}
	if err != nil {
		return nil, internalError("avatar", err)
	}
	if a.Kind != AttachAvatar {
		return nil, Errorf(EInvalid, "avatar_upload_id: upload %s is of kind %s; upload the picture with kind %q", id, a.Kind, AttachAvatar)
	}
	switch a.Status {
	case StatusReady:
	case StatusFailed, StatusExpired:
		return nil, Errorf(EInvalid, "avatar_upload_id: upload %s is %s", id, a.Status)
	default:
		return nil, Errorf(EConflict, "avatar_upload_id: upload %s is still %s; set it once its attachment frame says ready", id, a.Status)
	}
	for _, v := range AvatarVariants {
		if _, ok := a.Variants[v]; !ok {
			return nil, Errorf(EInvalid, "avatar_upload_id: upload %s has no %s variant", id, v)
		}
	}
	return &Avatar{ID: a.ID, Blurhash: a.Blurhash}, nil
}

func (s *accountService) DeleteSelf(ctx context.Context, userID, password string) (*AccountDeletion, error) {
	if err := s.checkPassword(ctx, userID, password); err != nil {
		return nil, err
	}
	return s.Delete(ctx, userID, userID)
}

func (s *accountService) Delete(ctx context.Context, userID, by string) (*AccountDeletion, error) {
	now := s.clock.Now().UTC()
	rec, created, err := s.accounts.MarkAccountDeleted(ctx, &AccountDeletion{
		UserID: userID, RequestedBy: by, Status: DeletionPending, RequestedAt: now, UsernameFreeAt: now.Add(s.cfg.UsernameHold),
	})
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "no user %s", userID)
		}
		return nil, internalError("delete account", err, slog.String("user_id", userID))
	}
	// Revoke even when the deletion was recorded before: a repeated call
	// finishes what a failed one started.
	if err := s.auth.revokeUserSessions(ctx, userID); err != nil {
		return nil, internalError("delete account", err, slog.String("user_id", userID))
	}
	if s.devices != nil {
		if _, err := s.devices.DeleteUserDevices(ctx, userID); err != nil {
			return nil, internalError("delete account", err, slog.String("user_id", userID))
		}
	}
	// Its sockets close on every node now, not when their tokens expire.
	s.closeSockets(ctx, userID, nil, CloseAccountDeleted)
	if rec.Status == DeletionDone {
		return rec, nil
	}
	if created {
		s.log.LogAttrs(ctx, slog.LevelInfo, "account deleted",
			slog.String("user_id", userID), slog.String("by", by))
	}
	if s.cfg.Jobs == nil {
		if err := s.Purge(ctx, userID); err != nil {
			return nil, err
		}
		return s.Deletion(ctx, userID)
	}
	if err := s.cfg.Jobs.EnqueueAccountPurge(ctx, userID); err != nil {
		// Recorded and revoked already; Sweep enqueues it again.
		s.log.LogAttrs(ctx, slog.LevelWarn, "account deletion job not enqueued; the sweep will retry",
			slog.String("user_id", userID), slog.Any("error", err))
	}
	return rec, nil
}

func (s *accountService) Deletion(ctx context.Context, userID string) (*AccountDeletion, error) {
	d, err := s.accounts.AccountDeletion(ctx, userID)
	if ErrorCode(err) == ENotFound {
		return nil, Errorf(ENotFound, "user %s was not deleted", userID)
	}
	if err != nil {
		return nil, internalError("account deletion", err)
	}
	return d, nil
}

func (s *accountService) Purge(ctx context.Context, userID string) error {
	d, err := s.Deletion(ctx, userID)
	if err != nil {
		return err
	}
	if d.Status == DeletionDone {
		return nil
	}
	var tombstoned int64
	if !s.cfg.KeepMessages {
		if tombstoned, _, err = s.store.TombstoneMessagesBySender(ctx, userID, s.clock.Now()); err != nil {
			return internalError("purge account", err, slog.String("user_id", userID))
		}
	}
	ids, err := s.accounts.AttachmentIDsByUploader(ctx, userID)
	if err != nil {
		return internalError("purge account", err, slog.String("user_id", userID))
	}
	if s.cfg.Objects != nil {
		for _, id := range ids {
			if err := s.cfg.Objects.DeleteAttachmentObjects(ctx, id); err != nil && ErrorCode(err) != ENotFound {
				return internalError("purge account", err, slog.String("user_id", userID), slog.String("attachment_id", id))
			}
		}
	}
	now := s.clock.Now()
	if err := s.accounts.FinishAccountDeletion(ctx, userID, now, tombstoned, int64(len(ids))); err != nil {
		return internalError("purge account", err, slog.String("user_id", userID))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "account deletion finished", slog.String("user_id", userID),
		slog.Int64("messages_tombstoned", tombstoned), slog.Int("attachments", len(ids)))
	if _, err := s.accounts.FreeDeletedUsernames(ctx, now); err != nil {
		return internalError("purge account", err)
	}
	return nil
}

func (s *accountService) Sweep(ctx context.Context) error {
	now := s.clock.Now()
	if _, err := s.accounts.FreeDeletedUsernames(ctx, now); err != nil {
		return internalError("account sweep", err)
	}
	ids, err := s.accounts.PendingAccountDeletions(ctx, now.Add(-DefaultDeletionRetryAfter), 100)
	if err != nil {
		return internalError("account sweep", err)
	}
	for _, id := range ids {
		if s.cfg.Jobs == nil {
			err = s.Purge(ctx, id)
		} else {
			err = s.cfg.Jobs.EnqueueAccountPurge(ctx, id)
		}
		if err != nil {
			return internalError("account sweep", err, slog.String("user_id", id))
		}
	}
	return nil
}

// exportConversation is a conversation as the export shows it: nothing
// about the other members.
type exportConversation struct {
	ID        string           `json:"id"`
	Kind      ConversationKind `json:"kind"`
	Title     string           `json:"title,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
}

// exportAttachment is an attachment of an exported message.
type exportAttachment struct {
	ID          string           `json:"id"`
	Kind        AttachmentKind   `json:"kind"`
	Status      AttachmentStatus `json:"status"`
	ContentType string           `json:"content_type"`
	Size        int64            `json:"size"`
	Filename    string           `json:"filename,omitempty"`
	// URL downloads the attachment as uploaded (with the access token).
	URL string `json:"url"`
}

// exportMessage is a message the user sent.
type exportMessage struct {
	ID             string             `json:"id"`
	ConversationID string             `json:"conversation_id"`
	Seq            int64              `json:"seq"`
	Kind           MessageKind        `json:"kind"`
	Body           string             `json:"body"`
	ReplyToSeq     int64              `json:"reply_to_seq,omitempty"`
	Location       *Location          `json:"location,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	EditedAt       *time.Time         `json:"edited_at,omitempty"`
	DeletedAt      *time.Time         `json:"deleted_at,omitempty"`
	Attachments    []exportAttachment `json:"attachments"`
}

// ExportFormat names the export document's layout.
const ExportFormat = "parley-export-1"

func (s *accountService) Export(ctx context.Context, userID string, w io.Writer) error {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return internalError("export", err)
	}
	ew := &exportWriter{w: w}
	ew.raw(`{"format":`)
	ew.value(ExportFormat)
	ew.raw(`,"exported_at":`)
	ew.value(s.clock.Now().UTC())
	ew.raw(`,"user":`)
	ew.value(u)
	ew.raw(`,"conversations":[`)
	before, first := time.Time{}, true
	for ew.err == nil {
		convs, err := s.store.ListConversations(ctx, userID, before, exportPage)
		if err != nil {
			return internalError("export", err)
		}
		for _, c := range convs {
			ew.item(&first, exportConversation{ID: c.ID, Kind: c.Kind, Title: c.Title, CreatedAt: c.CreatedAt})
			before = c.LastActivityAt
		}
		if len(convs) < exportPage {
			break
		}
	}
	ew.raw(`],"messages":[`)
	after := ""
	first = true
	for ew.err == nil {
		msgs, err := s.accounts.MessagesBySender(ctx, userID, after, exportPage)
		if err != nil {
			return internalError("export", err)
		}
		for _, m := range msgs {
			if m.System != nil {
				continue // membership history, not something the user wrote
			}
			em := exportMessage{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Kind: m.Kind, Body: m.Body,
				ReplyToSeq: m.ReplyToSeq, Location: m.Location, CreatedAt: m.CreatedAt, EditedAt: m.EditedAt,
				DeletedAt: m.DeletedAt, Attachments: []exportAttachment{}}
			for _, a := range m.Attachments {
				em.Attachments = append(em.Attachments, exportAttachment{ID: a.ID, Kind: a.Kind, Status: a.Status,
					ContentType: a.ContentType, Size: a.Size, Filename: a.Filename,
					URL: "/v1/attachments/" + a.ID + "/original"})
			}
			ew.item(&first, em)
			after = m.ID
		}
		if len(msgs) < exportPage {
			break
		}
	}
	ew.raw("]}\n")
	if ew.err != nil {
		return fmt.Errorf("export: write: %w", ew.err)
	}
	return nil
}

// exportWriter writes JSON pieces and keeps the first error.
type exportWriter struct {
	w   io.Writer
	err error
}

func (e *exportWriter) raw(s string) {
	if e.err == nil {
		_, e.err = io.WriteString(e.w, s)
	}
}

func (e *exportWriter) value(v any) {
	if e.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		e.err = err
		return
	}
	_, e.err = e.w.Write(b)
}

// item writes v as the next element of an array.
func (e *exportWriter) item(first *bool, v any) {
	if !*first {
		e.raw(",")
	}
	*first = false
	e.value(v)
}
