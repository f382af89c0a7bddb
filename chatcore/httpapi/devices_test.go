package httpapi

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	chatredis "github.com/parley-chat/parley/chatcore/redis"
)

type deviceBody = map[string]any

func apnsDevice(token string) deviceBody {
	return deviceBody{"platform": "apns", "token": token, "app_id": "chat.parley.app", "environment": "sandbox", "locale": "en-GB"}
}

func TestDevicesRegisterListDelete(t *testing.T) {
	e := newEnv(t, envOptions{})
	ann, ben := e.register("ann"), e.register("ben")

	var got struct{ Device chatcore.Device }
	e.must(http.StatusOK, "PUT", "/v1/devices", ann.access, apnsDevice("aa11"), &got)
	d := got.Device
	if d.ID == "" || d.Platform != "apns" || d.Token != "aa11" || d.Environment != "sandbox" || d.Locale != "en-GB" {
		t.Fatalf("registered device: got %+v", d)
	}
	// Refreshing the same token keeps the id.
	e.must(http.StatusOK, "PUT", "/v1/devices", ann.access, apnsDevice("aa11"), &got)
	if got.Device.ID != d.ID {
		t.Errorf("re-register: id %s, want %s", got.Device.ID, d.ID)
	}
	var list struct{ Devices []chatcore.Device }
	e.must(http.StatusOK, "GET", "/v1/devices", ann.access, nil, &list)
	if len(list.Devices) != 1 || list.Devices[0].ID != d.ID {
		t.Fatalf("ann's devices: got %+v", list.Devices)
	}
	// The phone changes hands: ben registers the same token and it moves.
	e.must(http.StatusOK, "PUT", "/v1/devices", ben.access, apnsDevice("aa11"), &got)
	if got.Device.ID != d.ID {
		t.Errorf("moved device id: got %s, want %s", got.Device.ID, d.ID)
	}
	e.must(http.StatusOK, "GET", "/v1/devices", ann.access, nil, &list)
	if len(list.Devices) != 0 {
		t.Errorf("ann still lists the moved device: %+v", list.Devices)
	}
	// Only one's own device can be deleted.
	if code := e.must(http.StatusNotFound, "DELETE", "/v1/devices/"+d.ID, ann.access, nil, nil).errorCode(t); code != chatcore.ENotFound {
		t.Errorf("delete someone else's device: code %q", code)
	}
	e.must(http.StatusNoContent, "DELETE", "/v1/devices/"+d.ID, ben.access, nil, nil)
	e.must(http.StatusNotFound, "DELETE", "/v1/devices/"+d.ID, ben.access, nil, nil)
	e.must(http.StatusUnauthorized, "GET", "/v1/devices", "", nil, nil)
}

func TestDevicesRejectBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	ann := e.register("ann")
	long := make([]byte, 4097)
	for i := range long {
		long[i] = 'a'
	}
	for name, body := range map[string]any{
		"unknown platform":    deviceBody{"platform": "mpns", "token": "t", "app_id": "a"},
		"no token":            deviceBody{"platform": "fcm", "token": "", "app_id": "a"},
		"token too long":      deviceBody{"platform": "fcm", "token": string(long), "app_id": "a"},
		"no app_id":           deviceBody{"platform": "fcm", "token": "t"},
		"apns without env":    deviceBody{"platform": "apns", "token": "t", "app_id": "a"},
		"apns with bad env":   deviceBody{"platform": "apns", "token": "t", "app_id": "a", "environment": "staging"},
		"fcm with env":        deviceBody{"platform": "fcm", "token": "t", "app_id": "a", "environment": "sandbox"},
		"not JSON":            "{",
		"token with a number": `{"platform":"fcm","token":7,"app_id":"a"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if code := e.must(http.StatusBadRequest, "PUT", "/v1/devices", ann.access, body, nil).errorCode(t); code != chatcore.EInvalid {
				t.Errorf("code %q, want invalid", code)
			}
		})
	}
}

// TestLogoutRemovesSessionDevices: a device belongs to the session that
// registered it; logging that session out removes it, other sessions keep
// theirs.
func TestLogoutRemovesSessionDevices(t *testing.T) {
	e := newEnv(t, envOptions{})
	ann := e.register("ann")
	var other authReply
	e.must(http.StatusOK, "POST", "/v1/auth/login", "", map[string]string{"username": "ann", "password": "correct horse battery"}, &other)
	e.must(http.StatusOK, "PUT", "/v1/devices", ann.access, apnsDevice("aa01"), nil)
	e.must(http.StatusOK, "PUT", "/v1/devices", other.AccessToken, deviceBody{"platform": "fcm", "token": "f1", "app_id": "chat.parley.app"}, nil)
	r := e.do("POST", "/v1/auth/logout", "", map[string]string{"refresh_token": ann.refresh})
	if r.status/100 != 2 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	var list struct{ Devices []chatcore.Device }
	e.must(http.StatusOK, "GET", "/v1/devices", other.AccessToken, nil, &list)
	if len(list.Devices) != 1 || list.Devices[0].Token != "f1" {
		t.Fatalf("after logging one session out: got %+v, want only the other session's device", list.Devices)
	}
}

func TestNotificationSettings(t *testing.T) {
	e := newEnv(t, envOptions{})
	ann, ben, cat := e.register("ann"), e.register("ben"), e.register("cat")
	conv := e.direct(ann, ben)
	path := "/v1/conversations/" + conv.ID + "/notifications"
	var got struct{ Notifications chatcore.NotificationPref }
	e.must(http.StatusOK, "GET", path, ann.access, nil, &got)
	if got.Notifications.Level != "all" || !got.Notifications.Default {
		t.Errorf("default in a direct conversation: got %+v, want all (default)", got.Notifications)
	}
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	e.must(http.StatusOK, "PUT", path, ann.access, map[string]any{"level": "mentions", "muted_until": until}, &got)
	if got.Notifications.Level != "mentions" || got.Notifications.Default || got.Notifications.MutedUntil == nil || !got.Notifications.MutedUntil.Equal(until) {
		t.Errorf("after setting: got %+v", got.Notifications)
	}
	e.must(http.StatusOK, "GET", path, ann.access, nil, &got)
	if got.Notifications.Level != "mentions" {
		t.Errorf("read back: got %+v", got.Notifications)
	}
	e.must(http.StatusBadRequest, "PUT", path, ann.access, map[string]any{"level": "loud"}, nil)
	e.must(http.StatusNotFound, "PUT", path, cat.access, map[string]any{"level": "none"}, nil)
	e.must(http.StatusNotFound, "GET", path, cat.access, nil, nil)
	e.must(http.StatusNotFound, "PUT", "/v1/conversations/nope/notifications", ann.access, map[string]any{"level": "none"}, nil)
}

// TestWebSocketDeviceID: a socket opened with one of the caller's devices
// makes that device live; someone else's device id is refused.
func TestWebSocketDeviceID(t *testing.T) {
	e := newEnv(t, envOptions{})
	ann, ben := e.register("ann"), e.register("ben")
	var got struct{ Device chatcore.Device }
	e.must(http.StatusOK, "PUT", "/v1/devices", ann.access, apnsDevice("ab01"), &got)
	if _, err := e.dialErr(ben.access + "&device_id=" + got.Device.ID); err == nil {
		t.Fatal("dial with someone else's device_id: got a socket")
	}
	c := e.dial(ann.access + "&device_id=" + got.Device.ID)
	presence := chatredis.NewPresence(e.rdb, chatredis.PresenceOptions{Prefix: e.pref})
	live, err := presence.LiveDevices(context.Background(), []string{ann.user.ID})
	if err != nil || !live[got.Device.ID] {
		t.Fatalf("live devices with the socket open: got %v %v", live, err)
	}
	c.conn.Close(1000, "")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if live, _ = presence.LiveDevices(context.Background(), []string{ann.user.ID}); !live[got.Device.ID] {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("device still live after its socket closed")
}
