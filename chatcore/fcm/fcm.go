package fcm

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
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/parley-chat/parley/chatcore"
)

// Google's endpoints and the scope FCM needs.
const (
	DefaultEndpoint = "https://fcm.googleapis.com"
	DefaultTokenURL = "https://oauth2.googleapis.com/token"
	Scope           = "https://www.googleapis.com/auth/firebase.messaging"
)

// Config configures a Sender. Every zero value means the documented default.
type Config struct {
	// ServiceAccountJSON is the service account's key file. Required: its
	// project_id, client_email, private_key and private_key_id are used.
	ServiceAccountJSON []byte
	// Endpoint is FCM's base URL. If empty, DefaultEndpoint.
	Endpoint string
	// TokenURL overrides the key file's token_uri (a test server). If both
	// are empty, DefaultTokenURL.
	TokenURL string
	// ChannelID is the Android notification channel of message pushes. If
	// empty, the app's default channel.
	ChannelID string
	// HTTPClient sends the requests (token and messages). If nil, a client
	// with Timeout.
	HTTPClient *http.Client
	// Timeout bounds one request. If zero, 10s.
	Timeout time.Duration
}

// ServiceAccount is the part of Google's key file that FCM needs.
type ServiceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// Sender sends pushes to FCM. It is safe for concurrent use.
type Sender struct {
	cfg     Config
	url     string
	jwtConf *jwt.Config
	ctx     context.Context // carries HTTPClient for the token source

	mu sync.Mutex
	ts oauth2.TokenSource
}

var _ chatcore.PushSender = (*Sender)(nil)

// New parses the key file and prepares the sender; it does not connect.
func New(cfg Config) (*Sender, error) {
	var sa ServiceAccount
	if err := json.Unmarshal(cfg.ServiceAccountJSON, &sa); err != nil {
		return nil, fmt.Errorf("fcm: read service account JSON: %w", err)
	}
	if sa.ProjectID == "" || sa.ClientEmail == "" || sa.PrivateKey == "" {
		return nil, errors.New("fcm: service account JSON needs project_id, client_email and private_key")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = sa.TokenURI
	}
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}
	s := &Sender{
		cfg: cfg,
		url: strings.TrimRight(cfg.Endpoint, "/") + "/v1/projects/" + sa.ProjectID + "/messages:send",
		jwtConf: &jwt.Config{
			Email:        sa.ClientEmail,
			PrivateKey:   []byte(sa.PrivateKey),
			PrivateKeyID: sa.PrivateKeyID,
			Scopes:       []string{Scope},
			TokenURL:     tokenURL,
		},
		ctx: context.WithValue(context.Background(), oauth2.HTTPClient, cfg.HTTPClient),
	}
	s.ts = s.jwtConf.TokenSource(s.ctx)
	return s, nil
}

// token returns a cached access token, fetching a new one when it is
// about to expire.
func (s *Sender) token() (string, error) {
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	t, err := ts.Token()
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// dropToken forgets the cached token (FCM answered 401).
func (s *Sender) dropToken() {
	s.mu.Lock()
	s.ts = s.jwtConf.TokenSource(s.ctx)
	s.mu.Unlock()
}

// Send delivers p to d; see the package comment for the outcomes.
func (s *Sender) Send(ctx context.Context, d chatcore.Device, p chatcore.Push) error {
	body, err := json.Marshal(Request{Message: s.Message(d, p)})
	if err != nil {
		return fmt.Errorf("fcm: encode message: %w", err)
	}
	tok, err := s.token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 && re.Response.StatusCode != 429 {
			return fmt.Errorf("fcm: access token: %w", err) // bad credentials: retrying will not help
		}
		return &chatcore.PushRetryError{Err: fmt.Errorf("fcm: access token: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("fcm: build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return &chatcore.PushRetryError{Err: fmt.Errorf("fcm: %w", err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e ErrorResponse
	_ = json.Unmarshal(raw, &e)
	code := e.FCMErrorCode()
	desc := fmt.Errorf("fcm: %d %s %s", resp.StatusCode, e.Error.Status, code)
	switch {
	case resp.StatusCode == http.StatusNotFound || code == "UNREGISTERED":
		return fmt.Errorf("%w: %w", desc, chatcore.ErrPushTokenDead)
	case resp.StatusCode == http.StatusUnauthorized:
		s.dropToken()
		return &chatcore.PushRetryError{Err: desc}
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &chatcore.PushRetryError{After: chatcore.RetryAfter(resp.Header.Get("Retry-After")), Err: desc}
	default:
		return desc
	}
}

// Request is the body of messages:send.
type Request struct {
	Message Message `json:"message"`
}

// Message is FCM's v1 message, the fields Parley uses.
type Message struct {
	Token        string            `json:"token"`
	Notification *Notification     `json:"notification,omitempty"`
	Data         map[string]string `json:"data,omitempty"`
	Android      *AndroidConfig    `json:"android,omitempty"`
}

// Notification is the visible part of a message.
type Notification struct {
	Title string `json:"title,omitempty"`
	Body  string `json:"body,omitempty"`
}

// AndroidConfig holds Android delivery options.
type AndroidConfig struct {
	Priority     string               `json:"priority"` // "HIGH" or "NORMAL"
	CollapseKey  string               `json:"collapse_key,omitempty"`
	Notification *AndroidNotification `json:"notification,omitempty"`
}

// AndroidNotification holds Android display options.
type AndroidNotification struct {
	ChannelID         string `json:"channel_id,omitempty"`
	Tag               string `json:"tag,omitempty"`
	Sound             string `json:"sound,omitempty"`
	NotificationCount *int   `json:"notification_count,omitempty"`
}

// ErrorResponse is FCM's error body.
type ErrorResponse struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Type      string `json:"@type"`
			ErrorCode string `json:"errorCode"`
		} `json:"details"`
	} `json:"error"`
}

// FCMErrorCode is the FcmError detail's errorCode, if any.
func (e ErrorResponse) FCMErrorCode() string {
	for _, d := range e.Error.Details {
		if strings.HasSuffix(d.Type, "google.firebase.fcm.v1.FcmError") {
			return d.ErrorCode
		}
	}
	return ""
}

// Message builds the FCM message for p to d.
func (s *Sender) Message(d chatcore.Device, p chatcore.Push) Message {
	data := map[string]string{
		"kind":            p.Kind,
		"conversation_id": p.ConversationID,
		"seq":             strconv.FormatInt(p.Seq, 10),
		"unread":          strconv.Itoa(p.Badge),
	}
	m := Message{Token: d.Token, Data: data}
	if p.Kind == chatcore.PushMessage {
		data["message_id"] = p.MessageID
		data["title"] = p.Title
		data["body"] = p.Body
		badge := p.Badge
		sound := p.Sound
		if sound == "" {
			sound = "default"
		}
		m.Notification = &Notification{Title: p.Title, Body: p.Body}
		m.Android = &AndroidConfig{
			Priority:    "HIGH",
			CollapseKey: p.ConversationID,
			Notification: &AndroidNotification{
				ChannelID: s.cfg.ChannelID, Tag: p.ConversationID, Sound: sound, NotificationCount: &badge,
			},
		}
		return m
	}
	if p.Reason != "" {
		data["reason"] = p.Reason
	}
	m.Android = &AndroidConfig{Priority: "NORMAL", CollapseKey: p.CollapseKey()}
	return m
}
