package chatcore

import (
	"context"
	"time"
)

// Notification levels of a member in a conversation.
const (
	NotifyAll      = "all"      // every message
	NotifyMentions = "mentions" // only messages that mention the member
	NotifyNone     = "none"     // never
)

// LargeGroup is the member count above which a group's default level is
// "mentions" rather than "all".
const LargeGroup = 50

// NotificationPref is a member's push setting for one conversation.
type NotificationPref struct {
	ConversationID string     `json:"conversation_id"`
	UserID         string     `json:"-"`
	Level          string     `json:"level"`
	MutedUntil     *time.Time `json:"muted_until,omitempty"`
	// Default is true when the member never set one and Level is the
	// conversation's default.
	Default bool `json:"default"`
}

// DefaultLevel is the level of a member who set none: "all" in direct
// conversations and groups of up to LargeGroup members, "mentions" above.
func DefaultLevel(kind ConversationKind, members int) string {
	if kind == KindDirect || members <= LargeGroup {
		return NotifyAll
	}
	return NotifyMentions
}

// DeviceStore keeps devices and notification preferences. Adapters:
// chatcore/postgres, chatcore/sqlite (through internal/sqlstore).
type DeviceStore interface {
	// UpsertDevice stores d keyed by (platform, token). A token already
	// stored keeps its id and moves to d's user and session (a phone that
	// changed hands or logged in again); d is updated in place with the
	// stored id and times. ENotFound if the user does not exist.
	UpsertDevice(ctx context.Context, d *Device) error
	// Devices lists a user's devices, oldest first.
	Devices(ctx context.Context, userID string) ([]*Device, error)
	// DevicesOfUsers lists the devices of several users.
	DevicesOfUsers(ctx context.Context, userIDs []string) ([]*Device, error)
	// DeleteDevice removes one of a user's devices. ENotFound if the user
	// has no such device.
	DeleteDevice(ctx context.Context, userID, deviceID string) error
	// DeleteDeviceToken removes a device only while it still holds token
	// (a dead token; a re-registration since keeps the row). It reports
	// whether a row went.
	DeleteDeviceToken(ctx context.Context, deviceID, token string) (bool, error)
	// DeleteSessionDevices removes the devices bound to a session (refresh
	// token family): logout, session revoke.
	DeleteSessionDevices(ctx context.Context, sessionID string) (int, error)
	// DeleteUserDevices removes all of a user's devices: password change,
	// account deletion.
	DeleteUserDevices(ctx context.Context, userID string) (int, error)
	// CountDevices counts devices by platform, for metrics.
	CountDevices(ctx context.Context) (map[string]int, error)

	// SetNotificationPref stores a member's level and mute. ENotFound if
	// the user is not a member of the conversation.
	SetNotificationPref(ctx context.Context, p NotificationPref) error
	// NotificationPrefs returns the stored preferences of the given users
	// in one conversation; users without one are absent.
	NotificationPrefs(ctx context.Context, conversationID string, userIDs []string) (map[string]NotificationPref, error)
	// UnreadCount is the number of messages from others after the user's
	// read position, over all their conversations, counted up to limit.
	UnreadCount(ctx context.Context, userID string, limit int) (int, error)
}

// RegisterDeviceRequest is the body of PUT /v1/devices.
type RegisterDeviceRequest struct {
	Platform    string `json:"platform"`
	Token       string `json:"token"`
	AppID       string `json:"app_id"`
	Environment string `json:"environment,omitempty"`
	Locale      string `json:"locale,omitempty"`
	AppVersion  string `json:"app_version,omitempty"`
}

// SetNotificationsRequest is the body of PUT
// /v1/conversations/{id}/notifications.
type SetNotificationsRequest struct {
	Level      string     `json:"level"`
	MutedUntil *time.Time `json:"muted_until,omitempty"`
}

// DeviceService registers the devices that push notifications wake and the
// members' notification settings. Implementation: *DeviceManager.
type DeviceService interface {
	// RegisterDevice registers or refreshes the caller's device, bound to
	// the caller's session. Errors: EInvalid (platform, token 1–4096 bytes,
	// app_id 1–256 bytes, environment, locale/app_version ≤ 64 bytes),
	// EUnauthorized (no session).
	RegisterDevice(ctx context.Context, userID, sessionID string, req RegisterDeviceRequest) (*Device, error)
	// Devices lists the caller's devices.
	Devices(ctx context.Context, userID string) ([]*Device, error)
	// DeleteDevice removes one of the caller's devices. Errors: ENotFound.
	DeleteDevice(ctx context.Context, userID, deviceID string) error
	// RemoveSessionDevices removes the devices of a session (logout,
	// session revoke) and returns how many went.
	RemoveSessionDevices(ctx context.Context, sessionID string) (int, error)
	// RemoveUserDevices removes all the user's devices (password change,
	// account deletion) and returns how many went.
	RemoveUserDevices(ctx context.Context, userID string) (int, error)
	// SetNotifications sets the caller's level and mute in a conversation
	// and returns the result. Errors: EInvalid (level, muted_until in the
	// past is allowed and means unmuted), ENotFound (not a member).
	SetNotifications(ctx context.Context, userID, conversationID string, req SetNotificationsRequest) (*NotificationPref, error)
	// Notifications returns the caller's setting in a conversation (the
	// default when none is set). Errors: ENotFound (not a member).
	Notifications(ctx context.Context, userID, conversationID string) (*NotificationPref, error)
}
