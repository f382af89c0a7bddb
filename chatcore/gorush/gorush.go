// Package gorush implements chatcore.PushSender through a gorush gateway
// (github.com/appleboy/gorush) that a team already runs: Parley sends
// POST {URL}/api/push with one notification per device in gorush's
// documented format and gorush talks to APNs and FCM with its own
// credentials.
//
// gorush answers 200 {"counts":1,"logs":[],"success":"ok"} once it has
// queued the notification. With `core.sync: true` in gorush's config it
// answers after sending and lists failures in logs as
// {"type":"failed-push","token":…,"error":…}; Parley reads those and
// treats the provider's "Unregistered", "BadDeviceToken" and
// "UNREGISTERED"/"NotRegistered" errors as dead tokens. In gorush's default
// async mode dead tokens are not reported back (gorush sends them to its
// feedback_hook_url instead).
//
//	s := gorush.New(gorush.Config{URL: "http://gorush:8088", Topic: "chat.parley.app"})
package gorush

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// gorush's platform numbers.
const (
	PlatformIOS     = 1
	PlatformAndroid = 2
)

// Config configures a Sender. Every zero value means the documented default.
type Config struct {
	// URL is gorush's base URL, e.g. http://gorush:8088. Required.
	URL string
	// Topic is the iOS topic (bundle id) for devices without an app_id.
	Topic string
	// HTTPClient sends the requests. If nil, a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request. If zero, 10s.
	Timeout time.Duration
}

// Sender posts pushes to gorush. It is safe for concurrent use.
type Sender struct {
	cfg Config
}

var _ chatcore.PushSender = (*Sender)(nil)

// New returns a Sender; it does not connect.
func New(cfg Config) (*Sender, error) {
	if cfg.URL == "" {
		return nil, errors.New("gorush: URL is required")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Sender{cfg: cfg}, nil
}

// Request is gorush's request body.
type Request struct {
	Notifications []Notification `json:"notifications"`
}

// Notification is one gorush notification, the documented fields Parley
// uses.
type Notification struct {
	Tokens           []string          `json:"tokens"`
	Platform         int               `json:"platform"`
	Message          string            `json:"message,omitempty"`
	Title            string            `json:"title,omitempty"`
	Priority         string            `json:"priority,omitempty"` // "high" or "normal"
	ContentAvailable bool              `json:"content_available,omitempty"`
	MutableContent   bool              `json:"mutable_content,omitempty"`
	Sound            string            `json:"sound,omitempty"`
	Badge            *int              `json:"badge,omitempty"`
	Topic            string            `json:"topic,omitempty"`
	PushType         string            `json:"push_type,omitempty"` // iOS: "alert" or "background"
	Alert            *Alert            `json:"alert,omitempty"`
	CollapseKey      string            `json:"collapse_key,omitempty"` // Android
	Production       bool              `json:"production,omitempty"`
	Development      bool              `json:"development,omitempty"`
	Data             map[string]string `json:"data,omitempty"`
	Notification     *AndroidPayload   `json:"notification,omitempty"`
}

// Alert is the iOS alert payload.
type Alert struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

// AndroidPayload is the Android notification payload.
type AndroidPayload struct {
	Tag string `json:"tag,omitempty"`
}

// Response is gorush's answer.
type Response struct {
	Counts  int    `json:"counts"`
	Success string `json:"success"`
	Logs    []struct {
		Type     string `json:"type"`
		Platform string `json:"platform"`
		Token    string `json:"token"`
		Error    string `json:"error"`
	} `json:"logs"`
}

// Notification builds gorush's notification for p to d.
func (s *Sender) Notification(d chatcore.Device, p chatcore.Push) Notification {
	n := Notification{
		Tokens: []string{d.Token},
		Data: map[string]string{
			"kind": p.Kind, "conversation_id": p.ConversationID, "seq": strconv.FormatInt(p.Seq, 10),
			"unread": strconv.Itoa(p.Badge),
		},
	}
	if d.Platform == chatcore.PlatformAPNs {
		n.Platform = PlatformIOS
		n.Topic = d.AppID
		if n.Topic == "" {
			n.Topic = s.cfg.Topic
		}
		n.Production = d.Environment != chatcore.EnvSandbox
		n.Development = !n.Production
	} else {
		n.Platform = PlatformAndroid
		n.CollapseKey = p.CollapseKey()
	}
	if p.Kind == chatcore.PushMessage {
		badge := p.Badge
		n.Data["message_id"] = p.MessageID
		n.Title, n.Message = p.Title, p.Body
		n.Priority = "high"
		n.Sound = p.Sound
		if n.Sound == "" {
			n.Sound = "default"
		}
		if n.Platform == PlatformIOS {
			n.Alert = &Alert{Title: p.Title, Body: p.Body}
			n.Badge = &badge
			n.MutableContent = true
			n.PushType = "alert"
		} else {
			n.Notification = &AndroidPayload{Tag: p.ConversationID}
		}
		return n
	}
	if p.Reason != "" {
		n.Data["reason"] = p.Reason
	}
	n.Priority = "normal"
	n.ContentAvailable = true
	if n.Platform == PlatformIOS {
		n.PushType = "background"
	}
	return n
}

// deadErrors are provider errors, as gorush reports them, that mean the
// token will never work again.
var deadErrors = []string{"Unregistered", "BadDeviceToken", "UNREGISTERED", "NotRegistered", "registration-token-not-registered"}

// Send posts p for d to gorush.
func (s *Sender) Send(ctx context.Context, d chatcore.Device, p chatcore.Push) error {
	body, err := json.Marshal(Request{Notifications: []Notification{s.Notification(d, p)}})
	if err != nil {
		return fmt.Errorf("gorush: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.URL+"/api/push", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("gorush: build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return &chatcore.PushRetryError{Err: fmt.Errorf("gorush: %w", err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s >= 500:
		return &chatcore.PushRetryError{After: chatcore.RetryAfter(resp.Header.Get("Retry-After")), Err: fmt.Errorf("gorush: status %d", s)}
	case s != http.StatusOK:
		return fmt.Errorf("gorush: status %d: %.200s", s, raw)
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("gorush: decode response: %w", err)
	}
	for _, l := range r.Logs {
		if l.Type != "failed-push" {
			continue
		}
		for _, e := range deadErrors {
			if strings.Contains(l.Error, e) {
				return fmt.Errorf("gorush: %s: %w", l.Error, chatcore.ErrPushTokenDead)
			}
		}
		return fmt.Errorf("gorush: failed push: %s", l.Error)
	}
	return nil
}
