package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink the server's goroutines write concurrently.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

func TestAccessLog(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(logs, nil)) }})
	alice := e.register("alice")
	bob := e.register("bob")
	conv := e.direct(alice, bob)
	e.must(http.StatusCreated, "POST", "/v1/conversations/"+conv.ID+"/messages?token=s3cret-query", alice.access,
		map[string]any{"client_id": "c1", "body": "hi"}, nil)
	e.do("GET", "/v1/me", "not-a-token", nil)

	lines := logs.lines(t, "http request")
	var send, unauth map[string]any
	for _, l := range lines {
		switch l["route"] {
		case "POST /v1/conversations/{id}/messages":
			send = l
		case "GET /v1/me":
			unauth = l
		}
	}
	if send == nil || unauth == nil {
		t.Fatalf("access log lines: got %v, want the send and the /v1/me request", lines)
	}
	if send["level"] != "INFO" || send["method"] != "POST" || send["status"] != float64(201) ||
		send["user_id"] != alice.user.ID || send["request_id"] == "" || send["bytes"].(float64) <= 0 {
		t.Errorf("send line: got %v, want INFO POST 201 with alice's id, a request id and the bytes", send)
	}
	if _, ok := send["duration_ms"].(float64); !ok {
		t.Errorf("send line: duration_ms %v, want milliseconds", send["duration_ms"])
	}
	if unauth["status"] != float64(401) || unauth["user_id"] != nil {
		t.Errorf("unauthenticated line: got %v, want 401 and no user_id", unauth)
	}
	all := func() string { logs.mu.Lock(); defer logs.mu.Unlock(); return logs.b.String() }()
	for _, secret := range []string{"s3cret-query", alice.access, "not-a-token", conv.ID} {
		if strings.Contains(all, secret) {
			t.Errorf("the logs contain %q (a token, query string or path)", secret)
		}
	}
}

func TestAccessLogOff(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
		c.NoAccessLog = true
	}})
	e.register("alice")
	if got := logs.lines(t, "http request"); len(got) != 0 {
		t.Errorf("NoAccessLog: got %d access lines, want none", len(got))
	}
}
