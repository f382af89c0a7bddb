package chatcore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Device platforms: which provider wakes the device.
const (
	PlatformAPNs = "apns" // Apple Push Notification service
	PlatformFCM  = "fcm"  // Firebase Cloud Messaging
)

// APNs environments of a device token.
const (
	EnvSandbox    = "sandbox"
	EnvProduction = "production"
)

// Device is one installed app instance that providers can wake. It belongs
// to one user and one session (refresh-token family); ending the session
// removes it.
type Device struct {
	ID          string    `json:"id"`
	UserID      string    `json:"-"`
	SessionID   string    `json:"-"`
	Platform    string    `json:"platform"`
	Token       string    `json:"token"`
	AppID       string    `json:"app_id"`
	Environment string    `json:"environment,omitempty"`
	Locale      string    `json:"locale,omitempty"`
	AppVersion  string    `json:"app_version,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Push kinds.
const (
	// PushMessage is a visible alert for a new message: high priority,
	// title, body, badge and sound.
	PushMessage = "message"
	// PushUpdate is a silent background update (read elsewhere, message
	// deleted): low priority, no alert, so the app can clear what it shows.
	PushUpdate = "update"
)

// Push is what one device is told, in provider-neutral terms. Each sender
// turns it into its provider's payload (see docs/protocol.md, "Push").
type Push struct {
	Kind           string // PushMessage or PushUpdate
	ConversationID string // thread id and collapse id
	Seq            int64  // the message's seq, or for an update the seq read up to
	MessageID      string // PushMessage only
	Title          string // PushMessage: sender name, and group title
	Body           string // PushMessage: preview, media label or "New message"
	Badge          int    // the user's total unread messages
	Sound          string // PushMessage: sound name; "" means "default"
	Reason         string // PushUpdate: "read" or "deleted"
}

// PushSender delivers one push to one device through one provider.
// Adapters: chatcore/apns, chatcore/fcm, chatcore/gorush.
//
// Send returns nil when the provider accepted the push,
// ErrPushTokenDead (wrapped) when the provider says the token will never
// work again (remove the device), a *PushRetryError when the failure is
// temporary (429, 5xx, network), and any other error for a push that would
// fail the same way again.
type PushSender interface {
	Send(ctx context.Context, d Device, p Push) error
}

// ErrPushTokenDead is returned (wrapped) by PushSender.Send when the provider
// reports the device token unregistered or invalid.
var ErrPushTokenDead = errors.New("push: device token is dead")

// PushRetryError is a temporary push failure. After is the provider's
// Retry-After, zero when it gave none.
type PushRetryError struct {
	After time.Duration
	Err   error
}

func (e *PushRetryError) Error() string {
	if e.After > 0 {
		return fmt.Sprintf("push: temporary failure (retry after %s): %v", e.After, e.Err)
	}
	return fmt.Sprintf("push: temporary failure: %v", e.Err)
}

func (e *PushRetryError) Unwrap() error { return e.Err }

// deviceConnSep separates a socket's own id from the device it belongs to
// in a presence connection id.
const deviceConnSep = "~dev:"

// DeviceConnID is the presence connection id of a socket opened with
// ?device_id=: presence then knows which devices are live, on every node.
func DeviceConnID(connID, deviceID string) string {
	if deviceID == "" {
		return connID
	}
	return connID + deviceConnSep + deviceID
}

// ConnDevice returns the device of a presence connection id made by
// DeviceConnID.
func ConnDevice(connID string) (string, bool) {
	_, dev, ok := strings.Cut(connID, deviceConnSep)
	return dev, ok && dev != ""
}

// LivePresence is a Presence that can also tell which devices hold a live
// socket. Adapters: chatcore/redis, chatcore/inmem.
type LivePresence interface {
	Presence
	// LiveDevices returns the ids of the given users' devices that have a
	// live socket opened with ?device_id=.
	LiveDevices(ctx context.Context, userIDs []string) (map[string]bool, error)
}

type deviceCtxKey struct{}

// WithDevice returns ctx carrying the id of the device a request comes
// from (a socket opened with ?device_id=).
func WithDevice(ctx context.Context, deviceID string) context.Context {
	return context.WithValue(ctx, deviceCtxKey{}, deviceID)
}

// DeviceFromContext returns the device id set by WithDevice, or "".
func DeviceFromContext(ctx context.Context) string {
	id, _ := ctx.Value(deviceCtxKey{}).(string)
	return id
}

// RetryAfter reads an HTTP Retry-After header, in seconds or as an HTTP
// date; an empty, negative or unreadable value is zero. The push senders
// and the webhook put it in PushRetryError.After / their backoff.
func RetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
