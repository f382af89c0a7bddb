package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/parley-chat/parley/chatcore/apns/apnstest"
	"github.com/parley-chat/parley/chatcore/fcm/fcmtest"
	"github.com/parley-chat/parley/internal/testenv"
)

const (
	e2eKeyID  = "KEYID12345"
	e2eTeamID = "TEAMID1234"
	e2eTopic  = "chat.parley.e2e"
)

// dialDevice opens the client's WebSocket as one of its devices.
func (c *client) dialDevice(deviceID string) *socket {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(c.base, "http") + "/v1/ws?device_id=" + deviceID
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + c.token}},
	})
	if err != nil {
		c.t.Fatalf("dial %s: %v", wsURL, err)
	}
	s := &socket{t: c.t, conn: conn, frames: make(chan map[string]any, 256), closed: make(chan error, 1)}
	go func() {
		for {
			var f map[string]any
			if err := wsjson.Read(context.Background(), conn, &f); err != nil {
				s.closed <- err
				close(s.frames)
				return
			}
			s.frames <- f
		}
	}()
	c.t.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	s.expect("hello", nil)
	return s
}

// session logs in again (a second session of the same user) and returns the
// client with its refresh token.
func session(t *testing.T, base, username string) (*client, string) {
	t.Helper()
	c := &client{t: t, base: base}
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	c.do("POST", "/v1/auth/login", map[string]any{"username": username, "password": "correct horse battery"}, http.StatusOK, &out)
	c.token, c.User.ID = out.AccessToken, out.User.ID
	return c, out.RefreshToken
}

type e2eDevice struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func (c *client) registerDevice(platform, token string) e2eDevice {
	c.t.Helper()
	body := map[string]any{"platform": platform, "token": token, "app_id": e2eTopic}
	if platform == "apns" {
		body["environment"] = "production"
	}
	var out struct{ Device e2eDevice }
	c.do("PUT", "/v1/devices", body, http.StatusOK, &out)
	return out.Device
}

func (c *client) deviceIDs() []string {
	c.t.Helper()
	var out struct{ Devices []e2eDevice }
	c.do("GET", "/v1/devices", nil, http.StatusOK, &out)
	var ids []string
	for _, d := range out.Devices {
		ids = append(ids, d.ID)
	}
	return ids
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestPushEndToEnd runs two serve nodes against local APNs and FCM
// stand-ins: exactly the right devices get exactly the right pushes.
func TestPushEndToEnd(t *testing.T) {
	key, p8 := apnstest.NewKey(t)
	apnsSrv := apnstest.NewServer(t, &key.PublicKey, e2eKeyID, e2eTeamID)
	fcmSrv := fcmtest.NewServer(t, "parley-e2e")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + testenv.Redis(t),
		"PARLEY_JWT_SECRET=" + strings.Repeat("e2e-secret-", 4),
		"PARLEY_LOG_LEVEL=warn",
		"PARLEY_APNS_KEY_FILE=" + write("apns.p8", p8),
		"PARLEY_APNS_KEY_ID=" + e2eKeyID,
		"PARLEY_APNS_TEAM_ID=" + e2eTeamID,
		"PARLEY_APNS_HOST=" + apnsSrv.URL,
		"PARLEY_FCM_CREDENTIALS_FILE=" + write("fcm.json", fcmSrv.ServiceAccountJSON()),
		"PARLEY_FCM_ENDPOINT=" + fcmSrv.URL,
		"PARLEY_FCM_CHANNEL_ID=messages",
		"PARLEY_PUSH_COALESCE_WINDOW=100ms",
		// The nodes trust the local APNs server's certificate.
		"SSL_CERT_FILE=" + write("apns-ca.pem", apnsSrv.CertPEM()),
	}
	nodeA := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	nodeB := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")

	alice := register(t, nodeA.URL, "alice")
	register(t, nodeB.URL, "bob")
	carol := register(t, nodeA.URL, "carol")
	dave := register(t, nodeB.URL, "dave")
	erin := register(t, nodeA.URL, "erin")

	bobPhone, bobPhoneRefresh := session(t, nodeA.URL, "bob")
	bobTablet, _ := session(t, nodeB.URL, "bob")

	aliceDev := alice.registerDevice("apns", "a11ce0")
	phone := bobPhone.registerDevice("apns", "b0b0f0")
	tablet := bobTablet.registerDevice("fcm", "bob-tablet-fcm")
	carol.registerDevice("apns", "ca401e")
	dave.registerDevice("apns", "da7e00")
	erinDev := erin.registerDevice("apns", "dead00")
	apnsSrv.Respond("dead00", apnstest.Answer{Status: 410, Reason: "Unregistered"})

	var group struct {
		Conversation struct{ ID string } `json:"conversation"`
	}
	alice.do("POST", "/v1/conversations", map[string]any{
		"member_ids": []string{bobPhone.User.ID, carol.User.ID, dave.User.ID}, "title": "Team",
	}, http.StatusCreated, &group)
	gid := group.Conversation.ID
	// carol mutes the group for an hour; dave wants mentions only (and
	// messages carry no mentions yet, so nothing).
	carol.do("PUT", "/v1/conversations/"+gid+"/notifications",
		map[string]any{"level": "all", "muted_until": time.Now().Add(time.Hour).UTC()}, http.StatusOK, nil)
	dave.do("PUT", "/v1/conversations/"+gid+"/notifications", map[string]any{"level": "mentions"}, http.StatusOK, nil)

	// bob's tablet is online on node B; his phone is not.
	tabletWS := bobTablet.dialDevice(tablet.ID)

	var sent struct {
		Message struct {
			ID  string `json:"id"`
			Seq int64  `json:"seq"`
		} `json:"message"`
	}
	alice.do("POST", "/v1/conversations/"+gid+"/messages", map[string]any{"client_id": "m1", "body": "hello team"}, http.StatusCreated, &sent)
	tabletWS.expect("message", nil)

	waitFor(t, "the push to bob's phone", func() bool { return len(apnsSrv.RequestsFor(phone.Token)) == 1 })
	time.Sleep(500 * time.Millisecond) // anything extra would have arrived by now
	r := apnsSrv.RequestsFor(phone.Token)[0]
	if r.Status != 200 || r.PushType != "alert" || r.Priority != "10" || r.CollapseID != gid || r.Topic != e2eTopic {
		t.Errorf("phone push headers: status %d type %q priority %q collapse %q topic %q", r.Status, r.PushType, r.Priority, r.CollapseID, r.Topic)
	}
	aps, _ := r.Payload()["aps"].(map[string]any)
	alert, _ := aps["alert"].(map[string]any)
	if alert["title"] != "ALICE · Team" || alert["body"] != "hello team" || aps["badge"] != float64(1) || // hello (the group's conversation_created is no unread message)
		aps["thread-id"] != gid || aps["mutable-content"] != float64(1) || aps["sound"] != "default" {
		t.Errorf("phone push payload: %s", r.Body)
	}
	if p := r.Payload(); p["conversation_id"] != gid || p["seq"] != float64(sent.Message.Seq) || p["message_id"] != sent.Message.ID {
		t.Errorf("phone push custom data: %s", r.Body)
	}
	for who, tok := range map[string]string{"the sender": aliceDev.Token, "muted carol": "ca401e", "mentions-only dave": "da7e00"} {
		if n := len(apnsSrv.RequestsFor(tok)); n != 0 {
			t.Errorf("%s got %d pushes, want none", who, n)
		}
	}
	if n := len(fcmSrv.Sends()); n != 0 {
		t.Errorf("bob's live tablet got %d pushes, want none", n)
	}

	// bob reads on the tablet: his phone gets a silent update.
	tabletWS.send(map[string]any{"type": "read", "conversation_id": gid, "seq": sent.Message.Seq})
	waitFor(t, "the silent update to bob's phone", func() bool { return len(apnsSrv.RequestsFor(phone.Token)) == 2 })
	u := apnsSrv.RequestsFor(phone.Token)[1]
	uaps, _ := u.Payload()["aps"].(map[string]any)
	if u.PushType != "background" || u.Priority != "5" || uaps["content-available"] != float64(1) || len(uaps) != 1 ||
		u.Payload()["unread"] != float64(0) || u.CollapseID != gid {
		t.Errorf("silent update: type %q priority %q body %s", u.PushType, u.Priority, u.Body)
	}

	// The tablet goes offline: the next message reaches it through FCM.
	tabletWS.conn.Close(websocket.StatusNormalClosure, "")
	time.Sleep(300 * time.Millisecond)
	alice.do("POST", "/v1/conversations/"+gid+"/messages", map[string]any{"client_id": "m2", "body": "are you there?"}, http.StatusCreated, &sent)
	waitFor(t, "the FCM push to bob's tablet", func() bool { return len(fcmSrv.Sends()) == 1 })
	m := fcmSrv.Sends()[0].Message
	android, _ := m["android"].(map[string]any)
	an, _ := android["notification"].(map[string]any)
	notif, _ := m["notification"].(map[string]any)
	if m["token"] != tablet.Token || android["priority"] != "HIGH" || android["collapse_key"] != gid ||
		an["channel_id"] != "messages" || an["notification_count"] != float64(1) || notif["body"] != "are you there?" {
		t.Errorf("tablet FCM message: %v", m)
	}

	// A dead token is pruned after one failed push.
	var direct struct {
		Conversation struct{ ID string } `json:"conversation"`
	}
	alice.do("POST", "/v1/conversations", map[string]any{"member_ids": []string{erin.User.ID}}, http.StatusCreated, &direct)
	alice.do("POST", "/v1/conversations/"+direct.Conversation.ID+"/messages", map[string]any{"client_id": "m3", "body": "hi erin"}, http.StatusCreated, nil)
	waitFor(t, "erin's dead device to be removed", func() bool { return len(erin.deviceIDs()) == 0 })
	if n := len(apnsSrv.RequestsFor(erinDev.Token)); n != 1 {
		t.Errorf("pushes to the dead token: got %d, want 1", n)
	}

	// Logging the phone's session out removes the phone, not the tablet.
	bobPhone.do("POST", "/v1/auth/logout", map[string]any{"refresh_token": bobPhoneRefresh}, http.StatusNoContent, nil)
	if ids := bobTablet.deviceIDs(); len(ids) != 1 || ids[0] != tablet.ID {
		t.Errorf("bob's devices after logging the phone out: %v, want only the tablet %s", ids, tablet.ID)
	}
}
