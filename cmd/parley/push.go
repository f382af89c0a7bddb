package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/apns"
	"github.com/parley-chat/parley/chatcore/fcm"
	"github.com/parley-chat/parley/chatcore/gorush"
)

// PushConfig is how a chat node reaches the push providers (flags and
// PARLEY_* variables in newFlags). Set APNs and/or
// FCM for direct delivery, or GorushURL to hand every push to a gorush
// gateway instead. With none, devices can register but nothing is pushed.
type PushConfig struct {
	APNsKeyFile string // .p8 signing key (PARLEY_APNS_KEY_FILE)
	APNsKeyID   string // PARLEY_APNS_KEY_ID
	APNsTeamID  string // PARLEY_APNS_TEAM_ID
	APNsTopic   string // bundle id for devices registered without app_id (PARLEY_APNS_TOPIC)
	APNsHost    string // override both endpoints, e.g. a test server (PARLEY_APNS_HOST)

	FCMCredentialsFile string // service account JSON (PARLEY_FCM_CREDENTIALS_FILE)
	FCMEndpoint        string // override https://fcm.googleapis.com (PARLEY_FCM_ENDPOINT)
	FCMTokenURL        string // override the key file's token_uri (PARLEY_FCM_TOKEN_URL)
	FCMChannelID       string // Android notification channel (PARLEY_FCM_CHANNEL_ID)

	GorushURL string // gateway mode (PARLEY_GORUSH_URL)

	WebhookSecret string        // signs the push webhook (PARLEY_PUSH_WEBHOOK_SECRET)
	HideContent   bool          // "New message" instead of name and preview (PARLEY_PUSH_HIDE_CONTENT)
	Window        time.Duration // per-user coalescing window (PARLEY_PUSH_COALESCE_WINDOW, 2s)
	Workers       int           // deliveries at once (PARLEY_PUSH_WORKERS, 8)
}

// Validate checks that each provider's settings come together.
func (c PushConfig) Validate() error {
	var errs []error
	if c.APNsKeyFile != "" && (c.APNsKeyID == "" || c.APNsTeamID == "") {
		errs = append(errs, errors.New("PARLEY_APNS_KEY_ID and PARLEY_APNS_TEAM_ID are required with PARLEY_APNS_KEY_FILE"))
	}
	if c.GorushURL != "" && (c.APNsKeyFile != "" || c.FCMCredentialsFile != "") {
		errs = append(errs, errors.New("PARLEY_GORUSH_URL replaces the direct senders: unset PARLEY_APNS_KEY_FILE and PARLEY_FCM_CREDENTIALS_FILE"))
	}
	return errors.Join(errs...)
}

// senders builds the configured senders by platform, and their names for
// metrics.
func (c PushConfig) senders() (map[string]chatcore.PushSender, map[string]string, error) {
	senders, names := map[string]chatcore.PushSender{}, map[string]string{}
	if c.GorushURL != "" {
		g, err := gorush.New(gorush.Config{URL: c.GorushURL, Topic: c.APNsTopic})
		if err != nil {
			return nil, nil, err
		}
		for _, p := range []string{chatcore.PlatformAPNs, chatcore.PlatformFCM} {
			senders[p], names[p] = g, "gorush"
		}
		return senders, names, nil
	}
	if c.APNsKeyFile != "" {
		key, err := os.ReadFile(c.APNsKeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("PARLEY_APNS_KEY_FILE: %w", err)
		}
		s, err := apns.New(apns.Config{KeyPEM: key, KeyID: c.APNsKeyID, TeamID: c.APNsTeamID, Topic: c.APNsTopic, Host: c.APNsHost})
		if err != nil {
			return nil, nil, err
		}
		senders[chatcore.PlatformAPNs] = s
	}
	if c.FCMCredentialsFile != "" {
		js, err := os.ReadFile(c.FCMCredentialsFile)
		if err != nil {
			return nil, nil, fmt.Errorf("PARLEY_FCM_CREDENTIALS_FILE: %w", err)
		}
		s, err := fcm.New(fcm.Config{ServiceAccountJSON: js, Endpoint: c.FCMEndpoint, TokenURL: c.FCMTokenURL, ChannelID: c.FCMChannelID})
		if err != nil {
			return nil, nil, err
		}
		senders[chatcore.PlatformFCM] = s
	}
	return senders, names, nil
}

// newPusher starts the device pusher of a chat node, or returns nil when
// no provider is configured or the store keeps no devices.
func (a *app) newPusher(store chatcore.Store, presence chatcore.LivePresence, reg *prometheus.Registry) (*chatcore.Pusher, error) {
	c := a.cfg.Push
	senders, names, err := c.senders()
	if err != nil {
		return nil, err
	}
	ps, ok := store.(chatcore.PushStore)
	if !ok {
		return nil, errors.New("push: the store keeps no devices")
	}
	if reg != nil {
		reg.MustRegister(newDeviceCollector(ps))
	}
	if len(senders) == 0 {
		a.logger.Info("no push provider configured (PARLEY_APNS_KEY_FILE, PARLEY_FCM_CREDENTIALS_FILE or PARLEY_GORUSH_URL): devices register but are not pushed")
		return nil, nil
	}
	p, err := chatcore.NewPusher(chatcore.PusherConfig{
		Store: ps, Presence: presence, Senders: senders, Providers: names,
		HideContent: c.HideContent, Window: c.Window, Workers: c.Workers,
		Metrics: newPushMetrics(reg), Logger: a.logger,
	})
	if err != nil {
		return nil, err
	}
	a.logger.Info("push enabled", slog.Int("providers", len(senders)), slog.Bool("hide_content", c.HideContent))
	return p, nil
}
