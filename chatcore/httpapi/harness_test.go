package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	chatredis "github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/chatcore/sqlite"
	"github.com/parley-chat/parley/internal/testenv"
)

// testJWTSecret signs the access tokens of test services.
var testJWTSecret = []byte("0123456789abcdef0123456789abcdef-test")

// env is a chat node under test: a real Service on a temp SQLite file and
// the real Redis bus and presence, served by httptest.
type env struct {
	t    testing.TB
	svc  *chatcore.Services
	srv  *Server
	ts   *httptest.Server
	reg  *prometheus.Registry
	rdb  *goredis.Client
	pref string
}

type envOptions struct {
	cfg   func(*Config)
	svc   func(*chatcore.ServiceConfig)
	clock chatcore.Clock
}

// withServices returns c served by the real chat services svcs.
func withServices(c Config, svcs *chatcore.Services) Config {
	c.Auth, c.Users, c.Conversations = svcs.Auth, svcs.Users, svcs.Conversations
	c.Messages, c.Receipts, c.Typing = svcs.Messages, svcs.Receipts, svcs.Typing
	c.Blocks, c.Reports, c.Moderation = svcs.Blocks, svcs.Reports, svcs.Moderation
	c.Presence, c.Hub, c.Devices, c.Search, c.Sync = svcs.Presence, svcs.Hub, svcs.Devices, svcs.Search, svcs.Sync
	c.Edits = svcs.Edits
	return c
}

// newEnv starts a node. Each env has its own SQLite file and its own Redis
// key and channel prefix, so tests never see each other's events.
func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "parley.db"))
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	redisOpts, err := goredis.ParseURL(testenv.Redis(tb))
	if err != nil {
		tb.Fatalf("parse redis url: %v", err)
	}
	rdb := goredis.NewClient(redisOpts)
	tb.Cleanup(func() { rdb.Close() })
	prefix := "parley:httpapitest:" + randHex(6) + ":"
	bus := chatredis.NewBus(rdb, chatredis.BusOptions{Prefix: prefix})
	tb.Cleanup(func() { bus.Close() })
	presence := chatredis.NewPresence(rdb, chatredis.PresenceOptions{Prefix: prefix})

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	reg := prometheus.NewRegistry()
	sc := chatcore.ServiceConfig{
		Store:     db,
		Bus:       bus,
		Presence:  presence,
		Logger:    logger,
		JWTSecret: testJWTSecret,
		Clock:     opts.clock,
		Hooks:     MetricsHooks(reg),
	}
	if opts.svc != nil {
		opts.svc(&sc)
	}
	svc, err := chatcore.NewServices(sc)
	if err != nil {
		tb.Fatalf("new service: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		svc.Run(runCtx)
	}()
	cfg := Config{
		Registry: reg,
		Logger:   logger,
		Clock:    opts.clock,
		Ready:    func(ctx context.Context) error { return db.Ping(ctx) },
		RateLimits: RateLimits{
			AuthPerMinute:     -1,
			MessagesPerSecond: -1,
			RequestsPerSecond: -1,
			FramesPerSecond:   -1,
		},
	}
	cfg = withServices(cfg, svc)
	if opts.cfg != nil {
		opts.cfg(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		ts.Close()
		cancel()
		<-runDone
		svc.Close()
	})
	// Run has subscribed once Subscribe returned; give the goroutine a beat.
	waitSubscribed(tb, rdb, prefix)
	return &env{t: tb, svc: svc, srv: srv, ts: ts, reg: reg, rdb: rdb, pref: prefix}
}

// waitSubscribed waits until the hub's pub/sub subscription is live, so no
// test event is published before anyone listens.
func waitSubscribed(tb testing.TB, rdb *goredis.Client, prefix string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		chans, err := rdb.PubSubChannels(context.Background(), prefix+"*").Result()
		if err == nil && len(chans) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("hub did not subscribe to the bus within 5s")
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// reply is a decoded HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorCode returns the code of a JSON error reply, failing if the body is
// not {code, message}.
func (r reply) errorCode(tb testing.TB) string {
	tb.Helper()
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || e.Message == "" {
		tb.Fatalf("error reply %d is not {code, message}: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("error reply Content-Type = %q, want application/json", ct)
	}
	return e.Code
}

// do sends a request; body is JSON-encoded unless it is a string or []byte.
func (e *env) do(method, path, token string, body any) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// must sends a request and fails unless it answers want.
func (e *env) must(want int, method, path, token string, body any, out any) reply {
	e.t.Helper()
	r := e.do(method, path, token, body)
	if r.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	if out != nil {
		r.decode(e.t, out)
	}
	return r
}

// account is a registered test user.
type account struct {
	user    chatcore.User
	access  string
	refresh string
}

type authReply struct {
	User         chatcore.User `json:"user"`
	AccessToken  string        `json:"access_token"`
	RefreshToken string        `json:"refresh_token"`
	ExpiresIn    int           `json:"expires_in"`
}

func (e *env) register(name string) account {
	e.t.Helper()
	var ar authReply
	e.must(http.StatusCreated, "POST", "/v1/auth/register", "", map[string]string{
		"username": name, "password": "correct horse battery", "display_name": strings.ToUpper(name),
	}, &ar)
	return account{user: ar.User, access: ar.AccessToken, refresh: ar.RefreshToken}
}

func (e *env) direct(a, b account) chatcore.Conversation {
	e.t.Helper()
	var cr struct {
		Conversation chatcore.Conversation `json:"conversation"`
	}
	r := e.do("POST", "/v1/conversations", a.access, map[string]any{"member_ids": []string{b.user.ID}})
	if r.status != http.StatusCreated && r.status != http.StatusOK {
		e.t.Fatalf("create conversation: %d %s", r.status, r.body)
	}
	r.decode(e.t, &cr)
	return cr.Conversation
}

// wsClient is a test socket that decodes server frames.
type wsClient struct {
	tb   testing.TB
	conn *websocket.Conn
}

// frame is any server frame.
type frame struct {
	Type           string            `json:"type"`
	UserID         string            `json:"user_id"`
	ConnID         string            `json:"conn_id"`
	ClientID       string            `json:"client_id"`
	MessageRaw     json.RawMessage   `json:"message"`
	Message        *chatcore.Message `json:"-"` // of ack and message frames
	ErrMessage     string            `json:"-"` // of error frames
	ConversationID string            `json:"conversation_id"`
	DeliveredSeq   int64             `json:"delivered_seq"`
	ReadSeq        int64             `json:"read_seq"`
	State          string            `json:"state"`
	Status         string            `json:"status"`
	LastSeen       time.Time         `json:"last_seen"`
	Code           string            `json:"code"`
	Ref            string            `json:"ref"`
	Raw            json.RawMessage   `json:"-"`
}

func (e *env) dial(token string) *wsClient {
	e.t.Helper()
	c, err := e.dialErr(token)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	hello := c.next()
	if hello.Type != "hello" {
		e.t.Fatalf("first frame %q, want hello", hello.Type)
	}
	return c
}

func (e *env) dialErr(token string) (*wsClient, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/v1/ws?access_token=" + token
	conn, resp, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{tb: e.t, conn: conn}
	e.t.Cleanup(func() { conn.CloseNow() })
	return c, nil
}

func (c *wsClient) sendJSON(v any) {
	c.tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.tb.Fatalf("encode frame: %v", err)
	}
	c.sendRaw(b)
}

func (c *wsClient) sendRaw(b []byte) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		c.tb.Fatalf("write frame: %v", err)
	}
}

// read returns the next frame or the error that ended the socket.
func (c *wsClient) read(timeout time.Duration) (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, err
	}
	f.Raw = b
	switch f.Type {
	case "ack", "message":
		if err := json.Unmarshal(f.MessageRaw, &f.Message); err != nil {
			return frame{}, err
		}
	case "error":
		json.Unmarshal(f.MessageRaw, &f.ErrMessage)
	}
	return f, nil
}

func (c *wsClient) next() frame {
	c.tb.Helper()
	f, err := c.read(5 * time.Second)
	if err != nil {
		c.tb.Fatalf("read frame: %v", err)
	}
	return f
}

// await skips frames until one of type typ (and, when given, matching
// match) arrives.
func (c *wsClient) await(typ string, match func(frame) bool) frame {
	c.tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, err := c.read(time.Until(deadline))
		if err != nil {
			c.tb.Fatalf("waiting for %q frame: %v", typ, err)
		}
		if f.Type == typ && (match == nil || match(f)) {
			return f
		}
	}
	c.tb.Fatalf("no %q frame within 5s", typ)
	return frame{}
}

// closeStatus reads until the socket ends and returns its close code.
func (c *wsClient) closeStatus(timeout time.Duration) websocket.StatusCode {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_, err := c.read(time.Until(deadline))
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("socket still open after %v", timeout)
		}
	}
}
