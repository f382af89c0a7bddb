package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/chatcore"
)

// TestWebSocketChat: two members chat over two sockets with ack, message,
// receipt, typing and presence.
func TestWebSocketChat(t *testing.T) {
	e := newEnv(t, envOptions{})
	olga, pete := e.register("olga"), e.register("pete")
	conv := e.direct(olga, pete)

	a := e.dial(olga.access)
	b := e.dial(pete.access)
	// Olga shares a conversation with Pete, so she sees him come online.
	a.await("presence", func(f frame) bool { return f.UserID == pete.user.ID && f.Status == "online" })

	a.sendJSON(map[string]any{"type": "send", "client_id": "o-1", "conversation_id": conv.ID, "body": "hi pete"})
	ack := a.await("ack", nil)
	if ack.ClientID != "o-1" || ack.Message == nil || ack.Message.Seq != 1 || ack.Message.Body != "hi pete" {
		t.Fatalf("ack = %s, want client_id o-1 with message seq 1", ack.Raw)
	}
	msg := b.await("message", nil)
	if msg.Message.Seq != 1 || msg.Message.SenderID != olga.user.ID || msg.Message.ClientID != "o-1" {
		t.Fatalf("pete got %s, want seq 1 from olga", msg.Raw)
	}

	// A retried send gets the original ack, not a second seq.
	a.sendJSON(map[string]any{"type": "send", "client_id": "o-1", "conversation_id": conv.ID, "body": "hi pete"})
	if again := a.await("ack", nil); again.Message.Seq != 1 || again.Message.ID != ack.Message.ID {
		t.Fatalf("retried send acked seq %d, want the original 1", again.Message.Seq)
	}

	b.sendJSON(map[string]any{"type": "delivered", "conversation_id": conv.ID, "seq": 1})
	rc := a.await("receipt", func(f frame) bool { return f.UserID == pete.user.ID && f.DeliveredSeq == 1 })
	if rc.ConversationID != conv.ID || rc.ReadSeq != 0 {
		t.Errorf("delivered receipt = %s", rc.Raw)
	}
	b.sendJSON(map[string]any{"type": "read", "conversation_id": conv.ID, "seq": 1})
	a.await("receipt", func(f frame) bool { return f.UserID == pete.user.ID && f.ReadSeq == 1 })

	b.sendJSON(map[string]any{"type": "typing", "conversation_id": conv.ID, "state": "start"})
	ty := a.await("typing", nil)
	if ty.UserID != pete.user.ID || ty.State != "start" || ty.ConversationID != conv.ID {
		t.Errorf("typing = %s, want pete start", ty.Raw)
	}
	b.sendJSON(map[string]any{"type": "typing", "conversation_id": conv.ID, "state": "stop"})
	a.await("typing", func(f frame) bool { return f.State == "stop" })

	b.sendJSON(map[string]any{"type": "ping", "ref": "p1"})
	if pong := b.await("pong", nil); pong.Ref != "p1" {
		t.Errorf("pong ref = %q, want p1", pong.Ref)
	}

	// Pete leaves: Olga sees him offline with last_seen.
	b.conn.Close(websocket.StatusNormalClosure, "bye")
	off := a.await("presence", func(f frame) bool { return f.UserID == pete.user.ID && f.Status == "offline" })
	if off.LastSeen.IsZero() {
		t.Errorf("offline presence without last_seen: %s", off.Raw)
	}

	// The HTTP send reaches the socket too.
	e.must(201, "POST", "/v1/conversations/"+conv.ID+"/messages", pete.access, map[string]any{"client_id": "p-1", "body": "via http"}, nil)
	if m := a.await("message", nil); m.Message.Body != "via http" || m.Message.Seq != 2 {
		t.Errorf("http-sent message = %s", m.Raw)
	}
}

// TestWebSocketBadInput: malformed frames get error frames and the socket
// stays open; non-members are refused with forbidden.
func TestWebSocketBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	quinn, rita, sam := e.register("quinn"), e.register("rita"), e.register("sam")
	conv := e.direct(quinn, rita)
	c := e.dial(sam.access)

	tests := []struct {
		name     string
		raw      string
		wantCode string
		wantRef  string
	}{
		{"malformed json", `{"type": "send", `, "invalid", ""},
		{"not an object", `[1, 2, 3]`, "invalid", ""},
		{"unknown type", `{"type": "dance", "ref": "r1"}`, "invalid", "r1"},
		{"no type", `{"ref": "r2"}`, "invalid", "r2"},
		{"wrong field type", `{"type": "read", "conversation_id": "x", "seq": "one"}`, "invalid", ""},
		{"non-member send", fmt.Sprintf(`{"type":"send","client_id":"s-1","conversation_id":%q,"body":"let me in"}`, conv.ID), "forbidden", "s-1"},
		{"send without conversation", `{"type":"send","client_id":"s-2","body":"x"}`, "invalid", "s-2"},
		{"empty body", fmt.Sprintf(`{"type":"send","client_id":"s-3","conversation_id":%q,"body":""}`, conv.ID), "", "s-3"},
		{"non-member read", fmt.Sprintf(`{"type":"read","conversation_id":%q,"seq":1,"ref":"r3"}`, conv.ID), "", "r3"},
		{"non-member typing", fmt.Sprintf(`{"type":"typing","conversation_id":%q,"state":"start","ref":"r4"}`, conv.ID), "", "r4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.sendRaw([]byte(tc.raw))
			f := c.await("error", nil)
			if tc.wantCode != "" && f.Code != tc.wantCode {
				t.Errorf("code = %q, want %q (%s)", f.Code, tc.wantCode, f.Raw)
			}
			if f.Code == "" || f.Code == chatcore.EInternal {
				t.Errorf("error frame code %q: %s", f.Code, f.Raw)
			}
			if f.Ref != tc.wantRef {
				t.Errorf("ref = %q, want %q", f.Ref, tc.wantRef)
			}
			// Still open.
			c.sendJSON(map[string]string{"type": "ping", "ref": tc.name})
			c.await("pong", func(f frame) bool { return f.Ref == tc.name })
		})
	}
}

func TestWebSocketOversizedFrame(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.MaxFrameBytes = 4096 }})
	tom := e.register("tom")
	c := e.dial(tom.access)
	c.sendRaw([]byte(`{"type":"ping","ref":"` + strings.Repeat("x", 5000) + `"}`))
	if got := c.closeStatus(5 * time.Second); got != websocket.StatusMessageTooBig {
		t.Fatalf("close status = %d, want 1009", got)
	}
}

func TestWebSocketAuth(t *testing.T) {
	e := newEnv(t, envOptions{svc: func(sc *chatcore.ServiceConfig) { sc.AccessTTL = 2 * time.Second }})
	uma := e.register("uma")

	t.Run("no token", func(t *testing.T) {
		r := e.do("GET", "/v1/ws", "", nil)
		if r.status != 401 || r.errorCode(t) != "unauthorized" {
			t.Fatalf("ws without token: %d %s", r.status, r.body)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		if _, err := e.dialErr("not-a-token"); err == nil {
			t.Fatal("dial with a bad token succeeded")
		}
	})
	t.Run("foreign origin", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/v1/ws?access_token=" + uma.access
		_, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
		if err == nil {
			t.Fatal("dial from a foreign origin succeeded")
		}
		if resp == nil || resp.StatusCode != 403 {
			t.Fatalf("foreign origin: %v, want 403", resp)
		}
	})
	t.Run("expiry closes 4001", func(t *testing.T) {
		var ar authReply
		e.must(200, "POST", "/v1/auth/login", "", map[string]string{"username": "uma", "password": "correct horse battery"}, &ar)
		c := e.dial(ar.AccessToken)
		start := time.Now()
		if got := c.closeStatus(6 * time.Second); got != closeTokenExpired {
			t.Fatalf("close status = %d, want %d", got, closeTokenExpired)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("closed %v after connecting, want about the token's 2 s lifetime", d)
		}
	})
}

// TestWebSocketAuthRenewal: an auth frame with a fresh token keeps the socket
// open past the first token's expiry. The waits are measured from the login
// reply so that a loaded machine (race detector, shared cores) cannot make
// the first token expire before the renewal is sent: JWT expiry is whole
// seconds, so the first token dies by loginDone+ttl and the renewed one,
// issued at least renewAfter later, lives past loginDone+ttl+renewAfter-1s.
func TestWebSocketAuthRenewal(t *testing.T) {
	const ttl, renewAfter = 6 * time.Second, 3 * time.Second
	e := newEnv(t, envOptions{svc: func(sc *chatcore.ServiceConfig) { sc.AccessTTL = ttl }})
	e.register("uma")
	var ar authReply
	e.must(200, "POST", "/v1/auth/login", "", map[string]string{"username": "uma", "password": "correct horse battery"}, &ar)
	loginDone := time.Now()
	c := e.dial(ar.AccessToken)
	time.Sleep(time.Until(loginDone.Add(renewAfter)))
	var fresh authReply
	e.must(200, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": ar.RefreshToken}, &fresh)
	c.sendJSON(map[string]string{"type": "auth", "access_token": fresh.AccessToken, "ref": "a1"})
	c.await("auth", func(f frame) bool { return f.Ref == "a1" })
	time.Sleep(time.Until(loginDone.Add(ttl + 500*time.Millisecond))) // past the first token's expiry
	c.sendJSON(map[string]string{"type": "ping", "ref": "still-here"})
	c.await("pong", func(f frame) bool { return f.Ref == "still-here" })
}

// TestWebSocketSlowConsumer: a socket that stops reading is kicked once its
// queue fills, and others keep receiving without delay.
func TestWebSocketSlowConsumer(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.SendBuffer = 64
		c.WriteTimeout = time.Second
	}})
	vera, walt := e.register("vera"), e.register("walt")
	slow := e.dial(vera.access) // never reads from now on
	fast := e.dial(walt.access)

	big := chatcore.EncodeFrame(map[string]string{"type": "message", "pad": strings.Repeat("x", 60<<10)})
	small := chatcore.EncodeFrame(map[string]any{"type": "message", "message": map[string]any{"body": "tick"}})
	hub := e.svc.Hub

	var wg sync.WaitGroup
	wg.Add(1)
	received := 0
	go func() {
		defer wg.Done()
		for received < 500 {
			f, err := fast.read(5 * time.Second)
			if err != nil {
				return
			}
			if f.Type == "message" {
				received++
			}
		}
	}()
	// Paced so a reading socket keeps up; the slow one's kernel buffers fill
	// after a few MB and its queue overflows.
	var dispatch time.Duration
	for i := 0; i < 500; i++ {
		start := time.Now()
		hub.Dispatch(chatcore.Event{Recipients: []string{vera.user.ID}, Frame: big})
		hub.Dispatch(chatcore.Event{Recipients: []string{walt.user.ID}, Frame: small})
		dispatch += time.Since(start)
		time.Sleep(200 * time.Microsecond)
	}
	wg.Wait()
	if received != 500 {
		t.Fatalf("fast socket received %d of 500 frames", received)
	}
	if dispatch > 3*time.Second { // normally a few ms
		t.Errorf("dispatching 1000 events took %v: a slow socket stalled the hub", dispatch)
	}
	if got := slow.closeStatus(10 * time.Second); got != closeTooSlow && got != -1 {
		t.Errorf("slow socket closed with %d, want %d (or a dropped connection)", got, closeTooSlow)
	}
	waitFor(t, "slow socket gone", func() bool { return e.svc.Hub.LocalConnections() == 1 })
	r := e.must(200, "GET", "/metrics", "", nil, nil)
	if !strings.Contains(string(r.body), "parley_ws_slow_consumers_total 1") {
		t.Error("parley_ws_slow_consumers_total is not 1")
	}
}

// TestWebSocketCatchUp: a member who was offline catches up with after=.
func TestWebSocketCatchUp(t *testing.T) {
	e := newEnv(t, envOptions{})
	xena, yuri := e.register("xena"), e.register("yuri")
	conv := e.direct(xena, yuri)
	a := e.dial(xena.access)
	b := e.dial(yuri.access)
	a.sendJSON(map[string]any{"type": "send", "client_id": "x1", "conversation_id": conv.ID, "body": "one"})
	last := b.await("message", nil).Message.Seq
	b.conn.Close(websocket.StatusNormalClosure, "")

	for i := 2; i <= 4; i++ {
		id := fmt.Sprintf("x%d", i)
		a.sendJSON(map[string]any{"type": "send", "client_id": id, "conversation_id": conv.ID, "body": fmt.Sprint(i)})
		a.await("ack", func(f frame) bool { return f.ClientID == id })
	}
	b = e.dial(yuri.access)
	var mr messagesReply
	e.must(200, "GET", fmt.Sprintf("/v1/conversations/%s/messages?after=%d", conv.ID, last), yuri.access, nil, &mr)
	var got []int64
	for _, m := range mr.Messages {
		got = append(got, m.Seq)
	}
	checkSeqs(t, "catch-up", got, []int64{2, 3, 4})
	// Live again.
	a.sendJSON(map[string]any{"type": "send", "client_id": "x5", "conversation_id": conv.ID, "body": "five"})
	// Frames published just before the reconnect may still arrive: clients
	// drop seqs they already have.
	b.await("message", func(f frame) bool { return f.Message.Seq == 5 })
}

// slowStore delays message appends so a send is in flight when the test
// wants it to be.
type slowStore struct {
	chatcore.Store
	delay time.Duration
}

func (s slowStore) AppendMessage(ctx context.Context, m *chatcore.Message, ids []string) (*chatcore.Message, bool, error) {
	time.Sleep(s.delay)
	return s.Store.AppendMessage(ctx, m, ids)
}

// TestShutdown: a send in flight is stored and acked, then sockets get 1001
// and new ones are refused.
func TestShutdown(t *testing.T) {
	e := newEnv(t, envOptions{svc: func(sc *chatcore.ServiceConfig) {
		sc.Store = slowStore{Store: sc.Store, delay: 300 * time.Millisecond}
	}})
	zoe, amy := e.register("zoe"), e.register("amy")
	conv := e.direct(zoe, amy)
	c := e.dial(zoe.access)
	c.sendJSON(map[string]any{"type": "send", "client_id": "z1", "conversation_id": conv.ID, "body": "last words"})
	time.Sleep(100 * time.Millisecond) // the send is being stored
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(ctx) }()
	var sawAck bool
	for {
		f, err := c.read(5 * time.Second)
		if err != nil {
			if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
				t.Fatalf("close status = %d (%v), want 1001", got, err)
			}
			break
		}
		if f.Type == "ack" {
			sawAck = true
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if !sawAck {
		t.Error("the send in flight at shutdown got no ack")
	}
	if _, err := e.dialErr(amy.access); err == nil {
		t.Error("a socket opened after shutdown")
	}
	var mr messagesReply
	e.must(200, "GET", "/v1/conversations/"+conv.ID+"/messages", amy.access, nil, &mr)
	if len(mr.Messages) != 1 {
		t.Errorf("%d messages stored, want 1", len(mr.Messages))
	}
}

func TestWebSocketSendRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.RateLimits.MessagesPerSecond = 1
		c.RateLimits.MessagesBurst = 2
	}})
	bea, cal := e.register("bea"), e.register("cal")
	conv := e.direct(bea, cal)
	c := e.dial(bea.access)
	var codes []string
	for i := range 4 {
		c.sendJSON(map[string]any{"type": "send", "client_id": fmt.Sprint("b", i), "conversation_id": conv.ID, "body": "spam"})
		f := c.next()
		for f.Type != "ack" && f.Type != "error" {
			f = c.next()
		}
		if f.Type == "error" {
			var ef errorFrame
			json.Unmarshal(f.Raw, &ef)
			if ef.RetryAfterMS <= 0 {
				t.Errorf("rate_limited frame without retry_after_ms: %s", f.Raw)
			}
		}
		codes = append(codes, f.Type+":"+f.Code)
	}
	if got, want := strings.Join(codes, " "), "ack: ack: error:rate_limited error:rate_limited"; got != want {
		t.Errorf("frames = %s, want %s", got, want)
	}
}

// TestWebSocketDeadPeer: a peer that stops answering pings is dropped
// within about two ping intervals and shows offline.
func TestWebSocketDeadPeer(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.PingInterval = 400 * time.Millisecond }})
	dan, eve := e.register("dan"), e.register("eve")
	e.direct(dan, eve)
	watcher := e.dial(eve.access)
	raw := rawWebSocket(t, e.ts.Listener.Addr().String(), dan.access) // never reads: no pongs
	defer raw.Close()
	watcher.await("presence", func(f frame) bool { return f.UserID == dan.user.ID && f.Status == "online" })
	start := time.Now()
	watcher.await("presence", func(f frame) bool { return f.UserID == dan.user.ID && f.Status == "offline" })
	if d := time.Since(start); d > 5*time.Second { // normally ~0.8 s
		t.Errorf("dead peer dropped after %v, want about 2 ping intervals", d)
	}
	// A live client (one that keeps reading, so its library answers the
	// server's pings) stays.
	for i := 0; time.Since(start) < 3*time.Second; i++ {
		time.Sleep(20 * time.Millisecond)
		ref := fmt.Sprint("alive", i)
		watcher.sendJSON(map[string]string{"type": "ping", "ref": ref})
		watcher.await("pong", func(f frame) bool { return f.Ref == ref })
	}
}

// TestShutdownDeadline: a peer that never answers the close handshake is
// dropped when the shutdown context ends.
func TestShutdownDeadline(t *testing.T) {
	e := newEnv(t, envOptions{})
	fay := e.register("fay")
	raw := rawWebSocket(t, e.ts.Listener.Addr().String(), fay.access) // never answers the close
	defer raw.Close()
	waitFor(t, "socket registered", func() bool { return e.svc.Hub.LocalConnections() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := e.srv.Shutdown(ctx)
	if err == nil {
		t.Fatal("shutdown reported success with a socket still open")
	}
	if d := time.Since(start); d > 3*time.Second { // the library alone would wait 5 s
		t.Errorf("shutdown took %v with a 300ms deadline", d)
	}
	waitFor(t, "socket dropped", func() bool { return e.svc.Hub.LocalConnections() == 0 })
}

// TestWebSocketFrameBehindHandshake: a frame the client sends in the same
// packet as the handshake is not lost when the connection changes hands.
func TestWebSocketFrameBehindHandshake(t *testing.T) {
	e := newEnv(t, envOptions{})
	gus := e.register("gus")
	addr := e.ts.Listener.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	payload := []byte(`{"type":"ping","ref":"early"}`)
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | byte(len(payload)), mask[0], mask[1], mask[2], mask[3]}
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	req := fmt.Sprintf("GET /v1/ws HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr, gus.access)
	if _, err := c.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	var frames []string
	for len(frames) < 2 {
		h := make([]byte, 2)
		if _, err := io.ReadFull(br, h); err != nil {
			t.Fatalf("read frame: %v (got %q)", err, frames)
		}
		n := int(h[1] & 0x7f)
		if n == 126 {
			ext := make([]byte, 2)
			io.ReadFull(br, ext)
			n = int(ext[0])<<8 | int(ext[1])
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, string(body))
	}
	if !strings.Contains(frames[0], `"hello"`) || !strings.Contains(frames[1], `"pong"`) || !strings.Contains(frames[1], `"early"`) {
		t.Errorf("frames = %q, want hello then the pong of the early ping", frames)
	}
}
