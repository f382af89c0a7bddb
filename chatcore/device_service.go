package chatcore

import (
	"context"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// deviceService implements DeviceService on a DeviceStore.
type deviceService struct {
	*deps
	devices DeviceStore
}

var _ DeviceService = (*deviceService)(nil)

func (r RegisterDeviceRequest) validate() error {
	switch {
	case r.Platform != PlatformAPNs && r.Platform != PlatformFCM:
		return Errorf(EInvalid, `platform must be "apns" or "fcm"`)
	case r.Token == "" || len(r.Token) > 4096 || strings.TrimSpace(r.Token) != r.Token || !utf8.ValidString(r.Token):
		return Errorf(EInvalid, "token must be 1–4096 bytes without surrounding spaces")
	case r.AppID == "" || len(r.AppID) > 256 || !utf8.ValidString(r.AppID):
		return Errorf(EInvalid, "app_id must be 1–256 bytes")
	case r.Platform == PlatformAPNs && r.Environment != EnvSandbox && r.Environment != EnvProduction:
		return Errorf(EInvalid, `environment must be "sandbox" or "production" for apns`)
	case r.Platform == PlatformFCM && r.Environment != "":
		return Errorf(EInvalid, "environment applies to apns only")
	case len(r.Locale) > 64 || len(r.AppVersion) > 64 || !utf8.ValidString(r.Locale) || !utf8.ValidString(r.AppVersion):
		return Errorf(EInvalid, "locale and app_version must be at most 64 bytes")
	}
	return nil
}

// RegisterDevice registers or refreshes the caller's device; see DeviceService.
func (s *deviceService) RegisterDevice(ctx context.Context, userID, sessionID string, req RegisterDeviceRequest) (*Device, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	if sessionID == "" {
		return nil, Errorf(EUnauthorized, "this access token has no session; refresh it and retry")
	}
	id, err := newID()
	if err != nil {
		return nil, internalError("register device", err)
	}
	now := s.clock.Now()
	d := &Device{
		ID: id, UserID: userID, SessionID: sessionID, Platform: req.Platform, Token: req.Token, AppID: req.AppID,
		Environment: req.Environment, Locale: req.Locale, AppVersion: req.AppVersion, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.devices.UpsertDevice(ctx, d); err != nil {
		return nil, internalError("register device", err, slog.String("user_id", userID))
	}
	return d, nil
}

// Devices lists the caller's devices.
func (s *deviceService) Devices(ctx context.Context, userID string) ([]*Device, error) {
	ds, err := s.devices.Devices(ctx, userID)
	if err != nil {
		return nil, internalError("list devices", err, slog.String("user_id", userID))
	}
	if ds == nil {
		ds = []*Device{}
	}
	return ds, nil
}

// DeleteDevice removes one of the caller's devices.
func (s *deviceService) DeleteDevice(ctx context.Context, userID, deviceID string) error {
	err := s.devices.DeleteDevice(ctx, userID, deviceID)
	if err != nil && ErrorCode(err) != ENotFound {
		return internalError("delete device", err, slog.String("user_id", userID))
	}
	return err
}

// RemoveSessionDevices removes a session's devices.
func (s *deviceService) RemoveSessionDevices(ctx context.Context, sessionID string) (int, error) {
	n, err := s.devices.DeleteSessionDevices(ctx, sessionID)
	if err != nil {
		return 0, internalError("remove session devices", err)
	}
	return n, nil
}

// RemoveUserDevices removes all of a user's devices.
func (s *deviceService) RemoveUserDevices(ctx context.Context, userID string) (int, error) {
	n, err := s.devices.DeleteUserDevices(ctx, userID)
	if err != nil {
		return 0, internalError("remove user devices", err, slog.String("user_id", userID))
	}
	return n, nil
}

// SetNotifications sets the caller's level and mute in a conversation.
func (s *deviceService) SetNotifications(ctx context.Context, userID, convID string, req SetNotificationsRequest) (*NotificationPref, error) {
	switch req.Level {
	case NotifyAll, NotifyMentions, NotifyNone:
	default:
		return nil, Errorf(EInvalid, `level must be "all", "mentions" or "none"`)
	}
	p := NotificationPref{ConversationID: convID, UserID: userID, Level: req.Level, MutedUntil: req.MutedUntil}
	if p.MutedUntil != nil {
		t := p.MutedUntil.UTC()
		p.MutedUntil = &t
	}
	if err := s.devices.SetNotificationPref(ctx, p); err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "conversation not found")
		}
		return nil, internalError("set notifications", err, slog.String("conversation_id", convID))
	}
	return s.Notifications(ctx, userID, convID)
}

// Notifications returns the caller's setting in a conversation.
func (s *deviceService) Notifications(ctx context.Context, userID, convID string) (*NotificationPref, error) {
	conv, err := s.store.ConversationForUser(ctx, convID, userID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(ENotFound, "conversation not found")
		}
		return nil, internalError("get notifications", err, slog.String("conversation_id", convID))
	}
	prefs, err := s.devices.NotificationPrefs(ctx, convID, []string{userID})
	if err != nil {
		return nil, internalError("get notifications", err, slog.String("conversation_id", convID))
	}
	if p, ok := prefs[userID]; ok {
		return &p, nil
	}
	return &NotificationPref{ConversationID: convID, UserID: userID, Level: DefaultLevel(conv.Kind, len(conv.Members)), Default: true}, nil
}
