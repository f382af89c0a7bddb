package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/internal/testenv"
)

func hasFields(want map[string]any) func(map[string]any) bool {
	return func(f map[string]any) bool {
		for k, v := range want {
			if fmt.Sprint(f[k]) != fmt.Sprint(v) {
				return false
			}
		}
		return true
	}
}

func messageField(key string, want any) func(map[string]any) bool {
	return func(f map[string]any) bool {
		m, _ := f["message"].(map[string]any)
		return m != nil && fmt.Sprint(m[key]) == fmt.Sprint(want)
	}
}

// pushRecorder is a push webhook endpoint that remembers what it was sent.
type pushRecorder struct {
	mu   sync.Mutex
	got  []map[string]any
	srv  *httptest.Server
	seen chan struct{}
}

func newPushRecorder(t *testing.T) *pushRecorder {
	p := &pushRecorder{seen: make(chan struct{}, 64)}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n map[string]any
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.got = append(p.got, n)
		p.mu.Unlock()
		p.seen <- struct{}{}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pushRecorder) forUser(id string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, n := range p.got {
		if n["user_id"] == id {
			out = append(out, n)
		}
	}
	return out
}

// TestTwoServeNodesShareOneConversation runs two `parley serve` processes on
// one Postgres and one Redis: members connected to different nodes chat,
// see receipts, typing and presence, the offline member gets a push
// wake-up, and a reconnecting member catches up with after=.
func TestTwoServeNodesShareOneConversation(t *testing.T) {
	push := newPushRecorder(t)
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + testenv.Redis(t),
		"PARLEY_JWT_SECRET=" + strings.Repeat("e2e-secret-", 4),
		"PARLEY_PUSH_WEBHOOK_URL=" + push.srv.URL,
		"PARLEY_LOG_LEVEL=warn",
	}
	nodeA := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	nodeB := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")

	alice := register(t, nodeA.URL, "alice")
	bob := register(t, nodeB.URL, "bob")
	carol := register(t, nodeA.URL, "carol") // never connects: gets push wake-ups

	var created struct {
		Conversation struct {
			ID   string `json:"id"`
			Kind string `json:"kind"`
		} `json:"conversation"`
	}
	alice.do("POST", "/v1/conversations", map[string]any{
		"member_ids": []string{bob.User.ID, carol.User.ID}, "title": "trio",
	}, http.StatusCreated, &created)
	conv := created.Conversation
	if conv.Kind != "group" {
		t.Fatalf("conversation kind: got %q, want group", conv.Kind)
	}

	as := alice.dial()
	bs := bob.dial()
	as.expect("presence", hasFields(map[string]any{"user_id": bob.User.ID, "status": "online"}))

	as.send(map[string]any{"type": "send", "client_id": "c-1", "conversation_id": conv.ID, "body": "hello from A"})
	ack := as.expect("ack", hasFields(map[string]any{"client_id": "c-1"}))
	// Seq 1 is the conversation_created system message.
	if got := ack["message"].(map[string]any)["seq"]; fmt.Sprint(got) != "2" {
		t.Fatalf("first message seq: got %v, want 2", got)
	}
	bs.expect("message", messageField("body", "hello from A"))

	// A retried send (same client_id) is acknowledged with the original.
	as.send(map[string]any{"type": "send", "client_id": "c-1", "conversation_id": conv.ID, "body": "hello from A"})
	ack = as.expect("ack", hasFields(map[string]any{"client_id": "c-1"}))
	if got := ack["message"].(map[string]any)["seq"]; fmt.Sprint(got) != "2" {
		t.Fatalf("retried send seq: got %v, want 2 (deduplicated)", got)
	}

	bs.send(map[string]any{"type": "delivered", "conversation_id": conv.ID, "seq": 2})
	as.expect("receipt", hasFields(map[string]any{"user_id": bob.User.ID, "delivered_seq": 2}))
	bs.send(map[string]any{"type": "read", "conversation_id": conv.ID, "seq": 2})
	as.expect("receipt", hasFields(map[string]any{"user_id": bob.User.ID, "read_seq": 2}))

	bs.send(map[string]any{"type": "typing", "conversation_id": conv.ID, "state": "start"})
	as.expect("typing", hasFields(map[string]any{"user_id": bob.User.ID, "state": "start"}))

	// Carol has no socket anywhere: exactly she is woken, once for seq 2
	// (system messages wake nobody).
	deadline := time.After(15 * time.Second)
	for len(push.forUser(carol.User.ID)) == 0 {
		select {
		case <-push.seen:
		case <-deadline:
			t.Fatalf("no push notification for offline carol within 15s")
		}
	}
	n := push.forUser(carol.User.ID)[0]
	if fmt.Sprint(n["seq"]) != "2" || n["conversation_id"] != conv.ID || n["sender_id"] != alice.User.ID {
		t.Fatalf("push for carol: got %v, want seq 2 in %s from %s", n, conv.ID, alice.User.ID)
	}
	if got := push.forUser(bob.User.ID); len(got) != 0 {
		t.Fatalf("online bob got push notifications: %v", got)
	}
	if got := push.forUser(alice.User.ID); len(got) != 0 {
		t.Fatalf("the sender got push notifications: %v", got)
	}
	// The node that stored it counts the delivery on /metrics (the
	// dashboard's push panel).
	if got := metricsText(t, nodeA.URL) + metricsText(t, nodeB.URL); !strings.Contains(got, `parley_push_webhooks_total{outcome="delivered"} 1`) {
		t.Errorf("no node exports parley_push_webhooks_total{outcome=\"delivered\"} 1:\n%s", got)
	}

	// Bob goes away: alice sees him offline with a last_seen.
	bs.conn.Close(websocket.StatusNormalClosure, "bye")
	off := as.expect("presence", hasFields(map[string]any{"user_id": bob.User.ID, "status": "offline"}))
	if off["last_seen"] == nil || off["last_seen"] == "" {
		t.Fatalf("offline presence without last_seen: %v", off)
	}

	// While bob is away alice sends two more; bob comes back on the other
	// node and catches up from his last seq.
	for i := 3; i <= 4; i++ {
		as.send(map[string]any{"type": "send", "client_id": fmt.Sprintf("c-%d", i), "conversation_id": conv.ID, "body": fmt.Sprintf("msg %d", i)})
		as.expect("ack", hasFields(map[string]any{"client_id": fmt.Sprintf("c-%d", i)}))
	}
	bobOnA := bob.on(nodeA.URL)
	var page struct {
		Messages []struct {
			Seq  int64  `json:"seq"`
			Body string `json:"body"`
		} `json:"messages"`
	}
	bobOnA.do("GET", "/v1/conversations/"+conv.ID+"/messages?after=2", nil, http.StatusOK, &page)
	if len(page.Messages) != 2 || page.Messages[0].Seq != 3 || page.Messages[1].Seq != 4 || page.Messages[1].Body != "msg 4" {
		t.Fatalf("catch-up after=2: got %+v, want seq 3 and 4 oldest first", page.Messages)
	}
	bs2 := bobOnA.dial()
	as.send(map[string]any{"type": "send", "client_id": "c-5", "conversation_id": conv.ID, "body": "welcome back"})
	bs2.expect("message", messageField("body", "welcome back"))

	// A stranger can neither read nor write the conversation.
	mallory := register(t, nodeB.URL, "mallory")
	status, body := mallory.request("GET", "/v1/conversations/"+conv.ID+"/messages", nil)
	if status != http.StatusNotFound && status != http.StatusForbidden {
		t.Fatalf("stranger reading history: got %d %s, want 404 or 403", status, body)
	}
	ms := mallory.dial()
	ms.send(map[string]any{"type": "send", "client_id": "x", "conversation_id": conv.ID, "body": "let me in"})
	e := ms.expect("error", nil)
	if e["code"] != "forbidden" {
		t.Fatalf("stranger send: got error %v, want code forbidden", e)
	}
}

// metricsText returns a node's /metrics.
func metricsText(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestDevModeStartsWithNothingInstalled runs `parley dev` on an empty data
// directory: it comes up, serves health and the API, and keeps accounts
// across a restart.
func TestDevModeStartsWithNothingInstalled(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PARLEY_ADMIN_USERNAME=root", "PARLEY_ADMIN_PASSWORD=root-password-1", "PARLEY_LOG_LEVEL=warn"}
	dev := start(t, env, nil, "dev", "-addr", "127.0.0.1:0", "-data", dir)
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json", "/metrics"} {
		resp, err := http.Get(dev.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: got %d, want 200", path, resp.StatusCode)
		}
	}
	admin := login(t, dev.URL, "root", "root-password-1")
	if admin.User.Role != "admin" {
		t.Fatalf("PARLEY_ADMIN_USERNAME account role: got %q, want admin", admin.User.Role)
	}
	register(t, dev.URL, "dana")

	// parley jobs finds the embedded Redis through the data directory.
	jobs := exec.Command(binary(t), "jobs", "list", "-data", dir)
	jobs.Env = cleanEnv()
	if out, err := jobs.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "QUEUE") {
		t.Errorf("parley jobs list -data %s against a running dev: %v\n%s", dir, err, out)
	}
	dev.Stop()
	jobs = exec.Command(binary(t), "jobs", "list", "-data", dir)
	jobs.Env = cleanEnv()
	if out, err := jobs.CombinedOutput(); err == nil || !strings.Contains(string(out), "no parley dev running") {
		t.Errorf("parley jobs list -data after dev stopped: %v\n%s; want it to say no dev is running", err, out)
	}

	dev = start(t, env, nil, "dev", "-addr", "127.0.0.1:0", "-data", dir)
	login(t, dev.URL, "dana", "correct horse battery")
}

// TestServeFailsFastWithoutItsServices: a production node with missing or
// unreachable dependencies exits at once and says what is wrong.
func TestServeFailsFastWithoutItsServices(t *testing.T) {
	bin := binary(t)
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"nothing set", nil, "PARLEY_DATABASE_URL"},
		{"short jwt secret", []string{
			"PARLEY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test", "PARLEY_REDIS_URL=redis://127.0.0.1:6379/0", "PARLEY_JWT_SECRET=short",
		}, "PARLEY_JWT_SECRET"},
		{"postgres unreachable", []string{
			"PARLEY_DATABASE_URL=postgres://postgres@127.0.0.1:1/test?connect_timeout=2", "PARLEY_REDIS_URL=redis://127.0.0.1:6379/0",
			"PARLEY_JWT_SECRET=" + strings.Repeat("x", 32),
		}, "postgres"},
		{"redis unreachable", []string{
			"PARLEY_DATABASE_URL=" + testenv.Postgres(t), "PARLEY_REDIS_URL=redis://127.0.0.1:1/0",
			"PARLEY_JWT_SECRET=" + strings.Repeat("x", 32),
		}, "redis"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "serve", "-addr", "127.0.0.1:0")
			cmd.Env = append(cleanEnv(), tc.env...)
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("serve still running after 30s; want a fast failure")
			}
			if err == nil {
				t.Fatalf("serve exited 0; want a failure mentioning %s\n%s", tc.want, out)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Fatalf("serve failed with %q; want it to mention %s", out, tc.want)
			}
		})
	}
}

// cleanEnv is the environment without PARLEY_* settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PARLEY_") {
			env = append(env, kv)
		}
	}
	return env
}
