package httpapi

import (
	"context"

	"github.com/parley-chat/parley/chatcore"
)

// chatcore.DeviceService on fakeChat: device "d1" is alice's, registered in
// session "sess-alice"; validation is the real service's (tested in
// chatcore) reduced to the platform check.

var _ chatcore.DeviceService = (*fakeChat)(nil)

func (f *fakeChat) RegisterDevice(_ context.Context, userID, sessionID string, req chatcore.RegisterDeviceRequest) (*chatcore.Device, error) {
	if err := f.enter("RegisterDevice"); err != nil {
		return nil, err
	}
	if req.Platform != chatcore.PlatformAPNs && req.Platform != chatcore.PlatformFCM {
		return nil, chatcore.Errorf(chatcore.EInvalid, `platform must be "apns" or "fcm"`)
	}
	return &chatcore.Device{ID: "d1", UserID: userID, SessionID: sessionID, Platform: req.Platform, Token: req.Token,
		AppID: req.AppID, Environment: req.Environment, CreatedAt: fakeNow, UpdatedAt: fakeNow}, nil
}

func (f *fakeChat) Devices(_ context.Context, userID string) ([]*chatcore.Device, error) {
	if err := f.enter("Devices"); err != nil {
		return nil, err
	}
	if userID != "alice" {
		return []*chatcore.Device{}, nil
	}
	return []*chatcore.Device{{ID: "d1", UserID: "alice", SessionID: "sess-alice", Platform: chatcore.PlatformFCM, Token: "t", AppID: "a", CreatedAt: fakeNow, UpdatedAt: fakeNow}}, nil
}

func (f *fakeChat) DeleteDevice(_ context.Context, userID, deviceID string) error {
	if err := f.enter("DeleteDevice"); err != nil {
		return err
	}
	if userID != "alice" || deviceID != "d1" {
		return chatcore.Errorf(chatcore.ENotFound, "device not found")
	}
	return nil
}

func (f *fakeChat) RemoveSessionDevices(context.Context, string) (int, error) {
	return 0, f.enter("RemoveSessionDevices")
}

func (f *fakeChat) RemoveUserDevices(context.Context, string) (int, error) {
	return 0, f.enter("RemoveUserDevices")
}

func (f *fakeChat) SetNotifications(ctx context.Context, userID, convID string, req chatcore.SetNotificationsRequest) (*chatcore.NotificationPref, error) {
	if err := f.enter("SetNotifications"); err != nil {
		return nil, err
	}
	switch req.Level {
	case chatcore.NotifyAll, chatcore.NotifyMentions, chatcore.NotifyNone:
	default:
		return nil, chatcore.Errorf(chatcore.EInvalid, "bad level")
	}
	if _, err := f.member(convID, userID, chatcore.ENotFound); err != nil {
		return nil, err
	}
	return &chatcore.NotificationPref{ConversationID: convID, UserID: userID, Level: req.Level, MutedUntil: req.MutedUntil}, nil
}

func (f *fakeChat) Notifications(_ context.Context, userID, convID string) (*chatcore.NotificationPref, error) {
	if err := f.enter("Notifications"); err != nil {
		return nil, err
	}
	if _, err := f.member(convID, userID, chatcore.ENotFound); err != nil {
		return nil, err
	}
	return &chatcore.NotificationPref{ConversationID: convID, UserID: userID, Level: chatcore.NotifyAll, Default: true}, nil
}
