package apns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sideshow/apns2"
	"github.com/sideshow/apns2/token"

	"github.com/parley-chat/parley/chatcore"
)

// Endpoints of Apple's servers.
const (
	HostSandbox    = apns2.HostDevelopment
	HostProduction = apns2.HostProduction
)

// Config configures a Sender. Every zero value means the documented default.
type Config struct {
	// KeyPEM is the contents of the .p8 signing key from Apple. Required.
	KeyPEM []byte
	// KeyID is the key's 10-character id (the JWT's kid). Required.
	KeyID string
	// TeamID is the Apple developer team id (the JWT's iss). Required.
	TeamID string
	// Topic is the apns-topic (the app's bundle id) for devices that
	// registered without an app_id. If empty, devices must carry one.
	Topic string
	// Host, when set, receives every push whatever the device's environment
	// (a test server). If empty, HostSandbox and HostProduction.
	Host string
	// HTTPClient sends the requests. If nil, apns2's HTTP/2 client.
	HTTPClient *http.Client
	// Timeout bounds one request. If zero, 10s.
	Timeout time.Duration
	// DefaultSound is the alert's sound when a push names none. If empty,
	// "default".
	DefaultSound string
}

// Sender sends pushes to APNs. It is safe for concurrent use.
type Sender struct {
	cfg                 Config
	tok                 *token.Token
	sandbox, production *apns2.Client
}

var _ chatcore.PushSender = (*Sender)(nil)

// New checks cfg and prepares the clients; it does not connect.
func New(cfg Config) (*Sender, error) {
	if cfg.KeyID == "" || cfg.TeamID == "" {
		return nil, errors.New("apns: key id and team id are required")
	}
	key, err := token.AuthKeyFromBytes(cfg.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("apns: read .p8 key: %w", err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.DefaultSound == "" {
		cfg.DefaultSound = "default"
	}
	tok := &token.Token{AuthKey: key, KeyID: cfg.KeyID, TeamID: cfg.TeamID}
	client := func(host string) *apns2.Client {
		c := apns2.NewTokenClient(tok)
		if cfg.Host != "" {
			host = cfg.Host
		}
		c.Host = host
		if cfg.HTTPClient != nil {
			c.HTTPClient = cfg.HTTPClient
		}
		return c
	}
	return &Sender{cfg: cfg, tok: tok, sandbox: client(HostSandbox), production: client(HostProduction)}, nil
}

// Send delivers p to d; see the package comment for the outcomes.
func (s *Sender) Send(ctx context.Context, d chatcore.Device, p chatcore.Push) error {
	n, err := s.notification(d, p)
	if err != nil {
		return err
	}
	c := s.production
	if d.Environment == chatcore.EnvSandbox {
		c = s.sandbox
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	res, err := c.PushWithContext(ctx, n)
	if err != nil {
		return &chatcore.PushRetryError{Err: fmt.Errorf("apns: %w", err)}
	}
	return s.outcome(res)
}

func (s *Sender) outcome(res *apns2.Response) error {
	switch {
	case res.StatusCode == http.StatusOK:
		return nil
	case res.StatusCode == http.StatusGone,
		res.Reason == apns2.ReasonBadDeviceToken,
		res.Reason == apns2.ReasonDeviceTokenNotForTopic:
		return fmt.Errorf("apns: %d %s: %w", res.StatusCode, res.Reason, chatcore.ErrPushTokenDead)
	case res.Reason == apns2.ReasonExpiredProviderToken:
		// Our JWT is too old or too new in APNs's eyes: make a new one now.
		s.tok.Lock()
		s.tok.IssuedAt = 0
		s.tok.Unlock()
		return &chatcore.PushRetryError{Err: fmt.Errorf("apns: %d %s", res.StatusCode, res.Reason)}
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return &chatcore.PushRetryError{Err: fmt.Errorf("apns: %d %s", res.StatusCode, res.Reason)}
	default:
		return fmt.Errorf("apns: %d %s", res.StatusCode, res.Reason)
	}
}

// notification builds the request: headers and JSON payload.
func (s *Sender) notification(d chatcore.Device, p chatcore.Push) (*apns2.Notification, error) {
	topic := d.AppID
	if topic == "" {
		topic = s.cfg.Topic
	}
	if topic == "" {
		return nil, errors.New("apns: device has no app_id and no default topic is configured")
	}
	body, err := json.Marshal(Payload(p, s.cfg.DefaultSound))
	if err != nil {
		return nil, fmt.Errorf("apns: encode payload: %w", err)
	}
	n := &apns2.Notification{
		DeviceToken: d.Token,
		Topic:       topic,
		Payload:     body,
		CollapseID:  collapseID(p.CollapseKey()),
	}
	if p.Kind == chatcore.PushMessage {
		n.PushType = apns2.PushTypeAlert
		n.Priority = apns2.PriorityHigh
	} else {
		n.PushType = apns2.PushTypeBackground
		n.Priority = apns2.PriorityLow
	}
	return n, nil
}

// collapseID keeps the header within APNs's 64-byte limit (a UUID is 36,
// a deletion's key 44).
func collapseID(key string) string {
	if len(key) > 64 {
		return key[:64]
	}
	return key
}

// Aps is the "aps" dictionary of a payload.
type Aps struct {
	Alert            *Alert `json:"alert,omitempty"`
	Badge            *int   `json:"badge,omitempty"`
	Sound            string `json:"sound,omitempty"`
	ThreadID         string `json:"thread-id,omitempty"`
	MutableContent   int    `json:"mutable-content,omitempty"`
	ContentAvailable int    `json:"content-available,omitempty"`
}

// Alert is the visible part of an alert push.
type Alert struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

// PayloadJSON is the JSON body of a push: aps plus Parley's own keys.
type PayloadJSON struct {
	Aps            Aps    `json:"aps"`
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
	MessageID      string `json:"message_id,omitempty"`
	// Unread and Reason ride on silent updates, whose aps may hold nothing
	// but content-available: the app sets its badge from Unread itself.
	Unread *int   `json:"unread,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Payload is the body APNs receives for p. A message is an alert with
// mutable-content (so a notification service extension may decorate it),
// thread-id, badge and sound; an update is a background push whose aps holds
// only content-available, as Apple requires.
func Payload(p chatcore.Push, defaultSound string) PayloadJSON {
	badge := p.Badge
	out := PayloadJSON{ConversationID: p.ConversationID, Seq: p.Seq, MessageID: p.MessageID}
	if p.Kind == chatcore.PushMessage {
		sound := p.Sound
		if sound == "" {
			sound = defaultSound
		}
		out.Aps = Aps{
			Alert:          &Alert{Title: p.Title, Body: p.Body},
			Badge:          &badge,
			Sound:          sound,
			ThreadID:       p.ConversationID,
			MutableContent: 1,
		}
		return out
	}
	out.Aps = Aps{ContentAvailable: 1}
	out.Unread = &badge
	out.Reason = p.Reason
	return out
}
