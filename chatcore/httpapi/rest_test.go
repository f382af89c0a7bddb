package httpapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/parley-chat/parley/chatcore/inmem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/parley-chat/parley/chatcore"
)

func TestRESTErrorShapes(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.MaxBodyBytes = 1024 }})
	alice := e.register("alice")

	tests := []struct {
		name        string
		method      string
		path        string
		token       string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
	}{
		{"unknown route", "GET", "/v1/nope", "", "", "", 404, "not_found"},
		{"wrong method", "PUT", "/v1/me", alice.access, "", "", 405, "invalid"},
		{"no token", "GET", "/v1/me", "", "", "", 401, "unauthorized"},
		{"garbage token", "GET", "/v1/me", "garbage", "", "", 401, "unauthorized"},
		{"malformed json", "POST", "/v1/auth/login", "", "application/json", `{"username": "alice",`, 400, "invalid"},
		{"syntax error", "POST", "/v1/auth/login", "", "application/json", `{"username" "alice"}`, 400, "invalid"},
		{"wrong type", "POST", "/v1/auth/login", "", "application/json", `{"username": 42}`, 400, "invalid"},
		{"empty body", "POST", "/v1/auth/login", "", "application/json", ``, 400, "invalid"},
		{"not an object", "POST", "/v1/auth/login", "", "application/json", `[1,2]`, 400, "invalid"},
		{"two values", "POST", "/v1/auth/login", "", "application/json", `{} {}`, 400, "invalid"},
		{"not json", "POST", "/v1/auth/login", "", "text/plain", `hello`, 415, "unsupported"},
		{"too large", "POST", "/v1/auth/login", "", "application/json", `{"username":"` + strings.Repeat("a", 2000) + `"}`, 413, "too_large"},
		{"bad limit", "GET", "/v1/conversations?limit=abc", alice.access, "", "", 400, "invalid"},
		{"unknown conversation", "GET", "/v1/conversations/nope", alice.access, "", "", 404, "not_found"},
		{"uploads disabled", "POST", "/v1/uploads", alice.access, "application/json", `{}`, 503, "unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.ts.URL+tc.path, strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			r := readReply(t, resp)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if got := r.errorCode(t); got != tc.wantCode {
				t.Errorf("code = %q, want %q", got, tc.wantCode)
			}
		})
	}

	t.Run("unknown fields are tolerated", func(t *testing.T) {
		e.must(200, "POST", "/v1/auth/login", "", map[string]any{
			"username": "alice", "password": "correct horse battery", "device": "pixel",
		}, nil)
	})
	t.Run("405 lists allowed methods", func(t *testing.T) {
		r := e.do("PUT", "/v1/conversations", alice.access, nil)
		if got := r.header.Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "POST") {
			t.Errorf("Allow = %q, want GET and POST", got)
		}
	})
}

func readReply(t *testing.T, resp *http.Response) reply {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: []byte(sb.String())}
}

func TestAuthTokens(t *testing.T) {
	clock := inmem.NewClock(time.Now())
	e := newEnv(t, envOptions{clock: clock})
	bob := e.register("bob")

	t.Run("forged token", func(t *testing.T) {
		claims := jwt.MapClaims{"sub": bob.user.ID, "exp": time.Now().Add(time.Hour).Unix()}
		forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("another secret that is long enough!!"))
		if err != nil {
			t.Fatal(err)
		}
		r := e.do("GET", "/v1/me", forged, nil)
		if r.status != 401 || r.errorCode(t) != "unauthorized" {
			t.Fatalf("forged token: %d %s, want 401 unauthorized", r.status, r.body)
		}
		if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
			t.Errorf("WWW-Authenticate = %q, want Bearer challenge", got)
		}
	})
	t.Run("unsigned token", func(t *testing.T) {
		claims := jwt.MapClaims{"sub": bob.user.ID, "exp": time.Now().Add(time.Hour).Unix()}
		none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if r := e.do("GET", "/v1/me", none, nil); r.status != 401 {
			t.Fatalf("alg none token: %d, want 401", r.status)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		carol := e.register("carol")
		e.must(200, "GET", "/v1/me", carol.access, nil, nil)
		clock.Advance(16 * time.Minute)
		r := e.do("GET", "/v1/me", carol.access, nil)
		if r.status != 401 || r.errorCode(t) != "unauthorized" {
			t.Fatalf("expired token: %d %s, want 401 unauthorized", r.status, r.body)
		}
		if !strings.Contains(string(r.body), "expired") {
			t.Errorf("expired token message = %s, want it to say expired", r.body)
		}
		// The refresh token still works and yields a working access token.
		var ar authReply
		e.must(200, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": carol.refresh}, &ar)
		e.must(200, "GET", "/v1/me", ar.AccessToken, nil, nil)
	})
}

func TestAuthFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	dave := e.register("dave")
	if dave.access == "" || dave.refresh == "" || dave.user.ID == "" {
		t.Fatalf("register reply incomplete: %+v", dave)
	}
	if r := e.do("POST", "/v1/auth/register", "", map[string]string{"username": "dave", "password": "another password"}); r.status != 409 || r.errorCode(t) != "conflict" {
		t.Fatalf("duplicate register: %d %s, want 409 conflict", r.status, r.body)
	}
	if r := e.do("POST", "/v1/auth/register", "", map[string]string{"username": "x", "password": "short"}); r.status != 400 {
		t.Fatalf("invalid register: %d %s, want 400", r.status, r.body)
	}
	if r := e.do("POST", "/v1/auth/login", "", map[string]string{"username": "dave", "password": "wrong password"}); r.status != 401 || r.errorCode(t) != "unauthorized" {
		t.Fatalf("wrong password: %d %s, want 401", r.status, r.body)
	}
	var login authReply
	e.must(200, "POST", "/v1/auth/login", "", map[string]string{"username": "dave", "password": "correct horse battery"}, &login)
	if login.ExpiresIn <= 0 {
		t.Errorf("expires_in = %d, want > 0", login.ExpiresIn)
	}
	var me userReply
	e.must(200, "GET", "/v1/me", login.AccessToken, nil, &me)
	if me.User.ID != dave.user.ID || me.User.Username != "dave" {
		t.Errorf("me = %+v, want dave", me.User)
	}

	// Rotation: each refresh returns a new pair; replaying a used refresh
	// token revokes the family, including the newest token.
	var r1, r2 authReply
	e.must(200, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken}, &r1)
	if r1.RefreshToken == login.RefreshToken {
		t.Fatal("refresh did not rotate the refresh token")
	}
	e.must(200, "POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r1.RefreshToken}, &r2)
	if r := e.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r1.RefreshToken}); r.status != 401 {
		t.Fatalf("replayed refresh token: %d %s, want 401", r.status, r.body)
	}
	if r := e.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": r2.RefreshToken}); r.status != 401 {
		t.Fatalf("newest token of a revoked family: %d %s, want 401", r.status, r.body)
	}

	// Logout revokes the family of the given token.
	e.must(204, "POST", "/v1/auth/logout", "", map[string]string{"refresh_token": dave.refresh}, nil)
	if r := e.do("POST", "/v1/auth/refresh", "", map[string]string{"refresh_token": dave.refresh}); r.status != 401 {
		t.Fatalf("refresh after logout: %d %s, want 401", r.status, r.body)
	}
	if r := e.do("POST", "/v1/auth/refresh", "", map[string]string{}); r.status != 400 {
		t.Fatalf("refresh without token: %d %s, want 400", r.status, r.body)
	}
}

func TestAuthRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.RateLimits.AuthPerMinute = 1
		c.RateLimits.AuthBurst = 3
	}})
	var last reply
	for range 5 {
		last = e.do("POST", "/v1/auth/login", "", map[string]string{"username": "nobody", "password": "whatever1"})
	}
	if last.status != 429 || last.errorCode(t) != chatcore.ERateLimited {
		t.Fatalf("6th login: %d %s, want 429 rate_limited", last.status, last.body)
	}
	if last.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestUsersAndPresence(t *testing.T) {
	e := newEnv(t, envOptions{})
	erin := e.register("erin")
	e.register("ernest")
	frank := e.register("frank")

	var ur usersReply
	e.must(200, "GET", "/v1/users?username=er", frank.access, nil, &ur)
	if len(ur.Users) != 2 {
		t.Fatalf("search er: %d users, want 2", len(ur.Users))
	}
	if r := e.do("GET", "/v1/users", frank.access, nil); r.status != 400 {
		t.Fatalf("search without username: %d, want 400", r.status)
	}
	var one userReply
	e.must(200, "GET", "/v1/users/"+erin.user.ID, frank.access, nil, &one)
	if one.User.Username != "erin" {
		t.Errorf("user = %+v, want erin", one.User)
	}
	// A stranger cannot watch erin's presence (issue 12): 404 as for a
	// user who does not exist, until they share a conversation.
	if r := e.do("GET", "/v1/users/"+erin.user.ID+"/presence", frank.access, nil); r.status != 404 {
		t.Fatalf("stranger's presence: %d, want 404", r.status)
	}
	e.direct(frank, erin)
	var p chatcore.PresenceStatus
	e.must(200, "GET", "/v1/users/"+erin.user.ID+"/presence", frank.access, nil, &p)
	if p.Status != "offline" {
		t.Errorf("presence before connecting = %q, want offline", p.Status)
	}
	ws := e.dial(erin.access)
	e.must(200, "GET", "/v1/users/"+erin.user.ID+"/presence", frank.access, nil, &p)
	if p.Status != "online" {
		t.Errorf("presence while connected = %q, want online", p.Status)
	}
	ws.conn.CloseNow()
	waitFor(t, "erin offline", func() bool {
		e.must(200, "GET", "/v1/users/"+erin.user.ID+"/presence", frank.access, nil, &p)
		return p.Status == "offline" && !p.LastSeen.IsZero()
	})
}

func TestConversationsAndMessages(t *testing.T) {
	e := newEnv(t, envOptions{})
	gina, hank, ivan := e.register("gina"), e.register("hank"), e.register("ivan")

	var created conversationReply
	e.must(201, "POST", "/v1/conversations", gina.access, map[string]any{"member_ids": []string{hank.user.ID}}, &created)
	var again conversationReply
	e.must(200, "POST", "/v1/conversations", hank.access, map[string]any{"member_ids": []string{gina.user.ID}}, &again)
	if again.Conversation.ID != created.Conversation.ID {
		t.Fatalf("direct conversation not idempotent per pair: %s vs %s", again.Conversation.ID, created.Conversation.ID)
	}
	conv := created.Conversation.ID
	base := "/v1/conversations/" + conv

	var a1, a1again, a2 ackReply
	e.must(201, "POST", base+"/messages", gina.access, map[string]any{"client_id": "c1", "body": "hello"}, &a1)
	e.must(200, "POST", base+"/messages", gina.access, map[string]any{"client_id": "c1", "body": "hello"}, &a1again)
	if a1again.Message.Seq != a1.Message.Seq || a1again.Message.ID != a1.Message.ID {
		t.Fatalf("retried send got seq %d, want the original %d", a1again.Message.Seq, a1.Message.Seq)
	}
	e.must(201, "POST", base+"/messages", hank.access, map[string]any{"client_id": "h1", "body": "hi", "reply_to_seq": 1}, &a2)
	for i := 3; i <= 5; i++ {
		e.must(201, "POST", base+"/messages", gina.access, map[string]any{"client_id": fmt.Sprintf("c%d", i), "body": "more"}, nil)
	}

	seqs := func(path string) []int64 {
		var mr messagesReply
		e.must(200, "GET", path, hank.access, nil, &mr)
		var out []int64
		for _, m := range mr.Messages {
			out = append(out, m.Seq)
		}
		return out
	}
	checkSeqs(t, "newest page", seqs(base+"/messages?limit=3"), []int64{5, 4, 3})
	checkSeqs(t, "before=3", seqs(base+"/messages?before=3"), []int64{2, 1})
	checkSeqs(t, "after=2", seqs(base+"/messages?after=2"), []int64{3, 4, 5})
	checkSeqs(t, "after=2&limit=2", seqs(base+"/messages?after=2&limit=2"), []int64{3, 4})
	if r := e.do("GET", base+"/messages?after=1&before=3", hank.access, nil); r.status != 400 {
		t.Errorf("before and after together: %d, want 400", r.status)
	}
	if r := e.do("GET", base+"/messages?limit=201", hank.access, nil); r.status != 400 {
		t.Errorf("limit 201: %d, want 400", r.status)
	}

	var rr receiptReply
	e.must(200, "POST", base+"/read", hank.access, map[string]any{"seq": 4}, &rr)
	if rr.Receipt.ReadSeq != 4 || rr.Receipt.DeliveredSeq != 4 {
		t.Errorf("receipt after read 4 = %+v, want read 4 delivered 4", rr.Receipt)
	}
	var list conversationsReply
	e.must(200, "GET", "/v1/conversations", hank.access, nil, &list)
	if len(list.Conversations) != 1 || list.Conversations[0].UnreadCount != 1 || list.Conversations[0].LastMessage == nil {
		t.Errorf("hank's conversations = %+v, want one with 1 unread and a last message", list.Conversations)
	}

	// A group: the owner (creator) and admins add and remove, anyone may leave.
	var g2 conversationReply
	e.must(201, "POST", "/v1/conversations", gina.access, map[string]any{"member_ids": []string{hank.user.ID, ivan.user.ID}, "title": "trip"}, &g2)
	gbase := "/v1/conversations/" + g2.Conversation.ID
	e.must(200, "GET", gbase, ivan.access, nil, nil)
	e.must(204, "DELETE", gbase+"/members", ivan.access, nil, nil)
	if r := e.do("GET", gbase, ivan.access, nil); r.status != 404 {
		t.Errorf("left member reads group: %d, want 404", r.status)
	}
	if r := e.do("POST", gbase+"/members", hank.access, map[string]any{"user_ids": []string{ivan.user.ID}}); r.status != 403 {
		t.Errorf("plain member adds: %d, want 403", r.status)
	}
	e.must(200, "PATCH", gbase+"/members/"+hank.user.ID, gina.access, map[string]any{"role": "admin"}, nil)
	e.must(200, "POST", gbase+"/members", hank.access, map[string]any{"user_ids": []string{ivan.user.ID}}, nil)
	e.must(204, "DELETE", gbase+"/members/"+ivan.user.ID, gina.access, nil, nil)
	var hist messagesReply
	e.must(200, "GET", gbase+"/messages?after=0", hank.access, nil, &hist)
	var events []string
	for _, m := range hist.Messages {
		if m.Kind != chatcore.MessageSystem || m.System == nil {
			t.Fatalf("group history holds %+v, want only system messages", m)
		}
		events = append(events, m.System.Event)
	}
	if got, want := strings.Join(events, " "), "conversation_created member_left role_changed member_added member_removed"; got != want {
		t.Errorf("system events %q, want %q", got, want)
	}
}

func checkSeqs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: seqs %v, want %v", what, got, want)
	}
}

// TestMembershipChecks: someone outside a conversation can neither read
// nor write it through any route.
func TestMembershipChecks(t *testing.T) {
	e := newEnv(t, envOptions{})
	jack, kate, mallory, nina := e.register("jack"), e.register("kate"), e.register("mallory"), e.register("nina")
	conv := e.direct(jack, kate)
	e.must(201, "POST", "/v1/conversations/"+conv.ID+"/messages", jack.access, map[string]any{"client_id": "j1", "body": "secret"}, nil)
	base := "/v1/conversations/" + conv.ID

	tests := []struct {
		method, path string
		body         any
	}{
		{"GET", base, nil},
		{"GET", base + "/messages", nil},
		{"GET", base + "/messages?after=0", nil},
		{"POST", base + "/messages", map[string]any{"client_id": "m1", "body": "let me in"}},
		{"POST", base + "/read", map[string]any{"seq": 1}},
		{"POST", base + "/delivered", map[string]any{"seq": 1}},
		{"POST", base + "/members", map[string]any{"user_ids": []string{nina.user.ID}}},
		{"DELETE", base + "/members/" + kate.user.ID, nil},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+strings.TrimPrefix(tc.path, base), func(t *testing.T) {
			r := e.do(tc.method, tc.path, mallory.access, tc.body)
			code := r.errorCode(t)
			if (r.status != 403 && r.status != 404) || (code != "forbidden" && code != "not_found") {
				t.Fatalf("non-member: %d %s, want 403 or 404", r.status, r.body)
			}
			if strings.Contains(string(r.body), "secret") {
				t.Fatalf("non-member saw message content: %s", r.body)
			}
		})
	}
	var mr messagesReply
	e.must(200, "GET", base+"/messages", kate.access, nil, &mr)
	if len(mr.Messages) != 1 {
		t.Fatalf("kate sees %d messages, want 1 (mallory's send must not be stored)", len(mr.Messages))
	}
}

func TestOperationalEndpoints(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.must(200, "GET", "/healthz", "", nil, nil)
	e.must(200, "GET", "/readyz", "", nil, nil)
	r := e.must(200, "GET", "/openapi.json", "", nil, nil)
	if !strings.Contains(string(r.body), `"openapi"`) {
		t.Errorf("/openapi.json does not look like OpenAPI: %.100s", r.body)
	}
	lee := e.register("lee")
	e.must(200, "GET", "/v1/me", lee.access, nil, nil)
	e.do("GET", "/v1/nothing-here", "", nil)
	r = e.must(200, "GET", "/metrics", "", nil, nil)
	for _, want := range []string{
		`parley_http_requests_total{code="201",route="POST /v1/auth/register"} 1`,
		`parley_http_requests_total{code="200",route="GET /v1/me"} 1`,
		`parley_http_requests_total{code="404",route="unmatched"} 1`,
		`parley_http_request_duration_seconds_count{route="GET /v1/me"} 1`,
		"parley_ws_connections 0",
		"parley_messages_stored_total 0",
		"parley_fanout_latency_seconds_count",
		"parley_message_store_seconds_count 0",
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// A send is counted, and so is the time its append took.
	moe := e.register("moe")
	conv := e.direct(lee, moe)
	e.must(201, "POST", "/v1/conversations/"+conv.ID+"/messages", lee.access, map[string]any{"client_id": "m1", "body": "hi"}, nil)
	r = e.must(200, "GET", "/metrics", "", nil, nil)
	for _, want := range []string{"parley_messages_stored_total 1", "parley_message_store_seconds_count 1"} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics after one send lacks %q", want)
		}
	}
}

func TestReadyzFailing(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.Ready = func(ctx context.Context) error { return errors.New("redis: connection refused") }
	}})
	r := e.do("GET", "/readyz", "", nil)
	if r.status != 503 || r.errorCode(t) != CodeUnavailable {
		t.Fatalf("readyz with a failing check: %d %s, want 503 unavailable", r.status, r.body)
	}
	if strings.Contains(string(r.body), "refused") {
		t.Errorf("readyz leaks the internal error: %s", r.body)
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.AllowedOrigins = []string{"app.example.com"} }})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", e.ts.URL+"/v1/conversations", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := preflight("https://app.example.com")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("allowed preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := preflight("https://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin got CORS headers: %v", resp.Header)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/healthz", nil)
	req.Header.Set("Origin", "https://app.example.com")
	got, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got.Body.Close()
	if got.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("simple request from an allowed origin: no Access-Control-Allow-Origin")
	}
}

func TestCORSLeavesMountsAlone(t *testing.T) {
	blob := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.WriteHeader(http.StatusOK)
	})
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.AllowedOrigins = []string{"app.example.com"}
		c.Mounts = map[string]http.Handler{"/blobs/": blob}
	}})
	req, _ := http.NewRequest("OPTIONS", e.ts.URL+"/blobs/x", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight to a mount: %d %v, want the mount's own answer", resp.StatusCode, resp.Header)
	}
}
