package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parley-chat/parley/chatcore"
)

// devices returns s's DeviceStore; every store adapter must have one.
func devices(t *testing.T, s chatcore.Store) chatcore.DeviceStore {
	t.Helper()
	ds, ok := s.(chatcore.DeviceStore)
	if !ok {
		t.Fatalf("%T does not implement chatcore.DeviceStore", s)
	}
	return ds
}

// MustDevice registers a device for user in session.
func MustDevice(tb testing.TB, s chatcore.DeviceStore, userID, sessionID, platform, token string) *chatcore.Device {
	tb.Helper()
	d := &chatcore.Device{ID: uuid.NewString(), UserID: userID, SessionID: sessionID, Platform: platform, Token: token,
		AppID: "chat.parley.app", Environment: chatcore.EnvProduction, CreatedAt: t0, UpdatedAt: t0}
	if err := s.UpsertDevice(ctx(tb), d); err != nil {
		tb.Fatalf("upsert device: %v", err)
	}
	return d
}

func deviceIDs(ds []*chatcore.Device) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func testDevices(t *testing.T, s chatcore.Store) {
	ds := devices(t, s)
	a, b := MustUser(t, s, "ann"), MustUser(t, s, "ben")
	d1 := MustDevice(t, ds, a.ID, "sess-a1", chatcore.PlatformAPNs, "tok-1")
	d2 := MustDevice(t, ds, a.ID, "sess-a2", chatcore.PlatformFCM, "tok-2")
	if d1.CreatedAt != micro(t0) {
		t.Errorf("created_at: got %v, want %v", d1.CreatedAt, micro(t0))
	}

	// Re-registering the same token refreshes it and keeps its id.
	again := &chatcore.Device{ID: uuid.NewString(), UserID: a.ID, SessionID: "sess-a1", Platform: chatcore.PlatformAPNs,
		Token: "tok-1", AppID: "chat.parley.app", Environment: chatcore.EnvSandbox, Locale: "de", CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	if err := ds.UpsertDevice(ctx(t), again); err != nil {
		t.Fatal(err)
	}
	if again.ID != d1.ID || again.CreatedAt != micro(t0) || again.UpdatedAt != micro(at(time.Hour)) || again.Locale != "de" || again.Environment != chatcore.EnvSandbox {
		t.Errorf("re-register: got %+v, want id %s created %v updated %v locale de sandbox", again, d1.ID, micro(t0), micro(at(time.Hour)))
	}
	// The same platform+token registered by another user moves to them.
	moved := &chatcore.Device{ID: uuid.NewString(), UserID: b.ID, SessionID: "sess-b", Platform: chatcore.PlatformFCM,
		Token: "tok-2", AppID: "x", CreatedAt: t0, UpdatedAt: t0}
	if err := ds.UpsertDevice(ctx(t), moved); err != nil {
		t.Fatal(err)
	}
	if moved.ID != d2.ID || moved.UserID != b.ID || moved.SessionID != "sess-b" {
		t.Errorf("moved device: got %+v", moved)
	}
	// The same token on another platform is another device.
	other := MustDevice(t, ds, a.ID, "sess-a1", chatcore.PlatformFCM, "tok-1")

	got, err := ds.Devices(ctx(t), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ids, want := deviceIDs(got), []string{d1.ID, other.ID}; len(ids) != 2 || !sameSet(ids, want) {
		t.Errorf("a's devices: got %v, want %v", ids, want)
	}
	both, err := ds.DevicesOfUsers(ctx(t), []string{a.ID, b.ID, a.ID})
	if err != nil || len(both) != 3 {
		t.Errorf("devices of users: got %d (%v), want 3", len(both), err)
	}
	counts, err := ds.CountDevices(ctx(t))
	if err != nil || counts[chatcore.PlatformAPNs] != 1 || counts[chatcore.PlatformFCM] != 2 {
		t.Errorf("count devices: got %v (%v), want apns 1 fcm 2", counts, err)
	}

	// Deleting: only one's own; unknown is not found.
	wantCode(t, ds.DeleteDevice(ctx(t), b.ID, d1.ID), chatcore.ENotFound)
	wantCode(t, ds.DeleteDevice(ctx(t), a.ID, other.ID), "")
	wantCode(t, ds.DeleteDevice(ctx(t), a.ID, other.ID), chatcore.ENotFound)

	// A dead token goes only while the row still holds it.
	if gone, err := ds.DeleteDeviceToken(ctx(t), d1.ID, "stale-token"); err != nil || gone {
		t.Errorf("delete with a stale token: got %v %v, want false", gone, err)
	}
	if gone, err := ds.DeleteDeviceToken(ctx(t), d1.ID, "tok-1"); err != nil || !gone {
		t.Errorf("delete dead token: got %v %v, want true", gone, err)
	}

	// Session and user removal.
	MustDevice(t, ds, a.ID, "sess-x", chatcore.PlatformAPNs, "tok-3")
	MustDevice(t, ds, a.ID, "sess-x", chatcore.PlatformAPNs, "tok-4")
	MustDevice(t, ds, a.ID, "sess-y", chatcore.PlatformAPNs, "tok-5")
	if n, err := ds.DeleteSessionDevices(ctx(t), "sess-x"); err != nil || n != 2 {
		t.Errorf("delete session devices: got %d %v, want 2", n, err)
	}
	if n, err := ds.DeleteUserDevices(ctx(t), a.ID); err != nil || n != 1 {
		t.Errorf("delete user devices: got %d %v, want 1", n, err)
	}
	if got, _ := ds.Devices(ctx(t), b.ID); len(got) != 1 {
		t.Errorf("b's devices after a's removal: got %d, want 1", len(got))
	}

	// Unknown user.
	err = ds.UpsertDevice(ctx(t), &chatcore.Device{ID: uuid.NewString(), UserID: uuid.NewString(), SessionID: "s",
		Platform: chatcore.PlatformFCM, Token: "tok-9", AppID: "x", CreatedAt: t0, UpdatedAt: t0})
	wantCode(t, err, chatcore.ENotFound)
}

func testNotificationPrefs(t *testing.T, s chatcore.Store) {
	ds := devices(t, s)
	a, b, c := MustUser(t, s, "cal"), MustUser(t, s, "dee"), MustUser(t, s, "eve")
	g := MustGroup(t, s, "g", a, b)
	until := at(2 * time.Hour)
	wantCode(t, ds.SetNotificationPref(ctx(t), chatcore.NotificationPref{ConversationID: g.ID, UserID: a.ID, Level: chatcore.NotifyMentions}), "")
	wantCode(t, ds.SetNotificationPref(ctx(t), chatcore.NotificationPref{ConversationID: g.ID, UserID: b.ID, Level: chatcore.NotifyAll, MutedUntil: &until}), "")
	wantCode(t, ds.SetNotificationPref(ctx(t), chatcore.NotificationPref{ConversationID: g.ID, UserID: a.ID, Level: chatcore.NotifyNone}), "")
	wantCode(t, ds.SetNotificationPref(ctx(t), chatcore.NotificationPref{ConversationID: g.ID, UserID: c.ID, Level: chatcore.NotifyNone}), chatcore.ENotFound)
	wantCode(t, ds.SetNotificationPref(ctx(t), chatcore.NotificationPref{ConversationID: uuid.NewString(), UserID: a.ID, Level: chatcore.NotifyNone}), chatcore.ENotFound)

	got, err := ds.NotificationPrefs(ctx(t), g.ID, []string{a.ID, b.ID, c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[a.ID].Level != chatcore.NotifyNone || got[a.ID].MutedUntil != nil ||
		got[b.ID].Level != chatcore.NotifyAll || got[b.ID].MutedUntil == nil || !got[b.ID].MutedUntil.Equal(micro(until)) {
		t.Errorf("prefs: got %+v", got)
	}
}

func testUnreadCount(t *testing.T, s chatcore.Store) {
	ds := devices(t, s)
	a, b, c := MustUser(t, s, "fay"), MustUser(t, s, "gus"), MustUser(t, s, "hal")
	d := MustDirect(t, s, a, b)
	g := MustGroup(t, s, "g", a, b, c)
	for range 3 {
		MustSend(t, s, d.ID, a.ID, "hi", t0)
	}
	MustSend(t, s, d.ID, b.ID, "mine", t0) // b's own: never unread for b
	for range 4 {
		MustSend(t, s, g.ID, c.ID, "yo", t0)
	}
	count := func(u *chatcore.User, limit int) int {
		t.Helper()
		n, err := ds.UnreadCount(ctx(t), u.ID, limit)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count(b, 1000); got != 7 {
		t.Errorf("b unread: got %d, want 7", got)
	}
	if got := count(b, 5); got != 5 {
		t.Errorf("b unread capped: got %d, want 5", got)
	}
	if _, _, err := s.AdvanceReceipt(ctx(t), g.ID, b.ID, 0, 3); err != nil {
		t.Fatal(err)
	}
	if got := count(b, 1000); got != 4 {
		t.Errorf("b unread after reading 3: got %d, want 4", got)
	}
	if got := count(a, 1000); got != 5 {
		t.Errorf("a unread: got %d, want 5", got)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}
