package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley/chatcore"
)

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the logged records whose message is msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func withLog(b *logBuffer) func(*Config) {
	return func(c *Config) { c.Logger = slog.New(slog.NewJSONHandler(b, nil)) }
}

// TestHandlerInternalErrorLoggedOnce: a REST request whose service fails
// is logged once, with its request id (the proxy's X-Request-Id when given),
// and the client sees no detail.
func TestHandlerInternalErrorLoggedOnce(t *testing.T) {
	var logs logBuffer
	f := newFakeChat().fail("Conversation", errDBDown)
	srv, err := New(func() Config { c := f.config(); withLog(&logs)(&c); return c }())
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/conversations/c1", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	req.Header.Set("X-Request-Id", "req-42")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	handlerCase{status: 500, code: chatcore.EInternal}.check(t, rec)
	if strings.Contains(rec.Body.String(), "10.0.0.7") {
		t.Errorf("body leaks the internal error: %s", rec.Body)
	}
	got := logs.records(t, "request failed")
	if len(got) != 1 {
		t.Fatalf("got %d 'request failed' records, want 1: %s", len(got), logs.buf.String())
	}
	if got[0]["request_id"] != "req-42" || got[0]["route"] != "GET /v1/conversations/{id}" || !strings.Contains(got[0]["error"].(string), "10.0.0.7") {
		t.Errorf("log record %v: want request_id req-42, the route and the error", got[0])
	}

	// Without X-Request-Id the server makes one up; a client error logs nothing.
	req = httptest.NewRequest("GET", "/v1/conversations/c1", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	srv.Handler().ServeHTTP(httptest.NewRecorder(), req)
	if got := logs.records(t, "request failed"); len(got) != 2 || got[1]["request_id"] == "" {
		t.Errorf("second failure: got records %v, want one more with a request id", got)
	}
	req = httptest.NewRequest("GET", "/v1/users/nobody", nil)
	req.Header.Set("Authorization", "Bearer tok-alice")
	srv.Handler().ServeHTTP(httptest.NewRecorder(), req)
	if got := logs.records(t, "request failed"); len(got) != 2 {
		t.Errorf("a not_found was logged as a failure: %v", got)
	}
}

// TestHandlerWebSocket opens a socket on the fakes: frames reach the
// services, errors come back as error frames, and an internal error is
// logged once (by the socket, never by writeError) with the upgrade
// request's id.
func TestHandlerWebSocket(t *testing.T) {
	var logs logBuffer
	f := newFakeChat().fail("Typing", errDBDown)
	cfg := f.config()
	withLog(&logs)(&cfg)
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// In memory, so that it runs with no network at all (unshare -n).
	ln := newPipeListener()
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DialContext: ln.dial}}
	ws, _, err := websocket.Dial(ctx, "ws://parley.test/v1/ws?access_token=tok-alice", &websocket.DialOptions{
		HTTPClient: client, HTTPHeader: http.Header{"X-Request-Id": {"req-ws"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()

	read := func() map[string]any {
		t.Helper()
		_, b, err := ws.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("frame %s: %v", b, err)
		}
		return got
	}
	exchange := func(frame string) map[string]any {
		t.Helper()
		if err := ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
			t.Fatal(err)
		}
		return read()
	}
	if got := read(); got["type"] != "hello" || got["user_id"] != "alice" {
		t.Fatalf("first frame %v, want hello for alice", got)
	}
	if got := exchange(`{"type":"send","conversation_id":"c1","client_id":"k1","body":"hi"}`); got["type"] != "ack" {
		t.Errorf("send: got %v, want an ack", got)
	}
	got := exchange(`{"type":"send","conversation_id":"c9","client_id":"k2","body":"hi"}`)
	if got["type"] != "error" || got["code"] != chatcore.EForbidden {
		t.Errorf("send to a conversation of others: got %v, want error forbidden", got)
	}
	got = exchange(`{"type":"typing","conversation_id":"c1","state":"start","ref":"t1"}`)
	if got["type"] != "error" || got["code"] != chatcore.EInternal || got["message"] != "internal error" || got["ref"] != "t1" {
		t.Errorf("failing typing: got %v, want error internal with ref t1 and no detail", got)
	}
	if rec := logs.records(t, "websocket frame failed"); len(rec) != 1 || rec[0]["request_id"] != "req-ws" {
		t.Errorf("got socket failure records %v, want one with request_id req-ws", rec)
	}
	if rec := logs.records(t, "request failed"); len(rec) != 0 {
		t.Errorf("a socket frame was also logged as a failed request: %v", rec)
	}
	if !f.called("Connected") {
		t.Error("the socket did not report presence")
	}
}

// pipeListener is a net.Listener whose connections are in-memory pipes.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error { l.once.Do(func() { close(l.done) }); return nil }

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// dial is an http.Transport DialContext to the listener.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
