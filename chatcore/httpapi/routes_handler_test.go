package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// handlerCase is one request to a Server served by a fakeChat, and what the
// client must get back.
type handlerCase struct {
	route  string // the routes.go pattern the request reaches
	name   string
	setup  func(f *fakeChat) // e.g. f.fail("Send", err)
	method string
	path   string
	token  string // "" = no Authorization header
	body   string
	status int
	code   string // error code of the body; "" = not an error
}

// serve sends tc to a new Server over f and returns the recorder.
func (tc handlerCase) serve(t *testing.T, f *fakeChat, mutate func(*Config)) *httptest.ResponseRecorder {
	t.Helper()
	cfg := f.config()
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var body *bytes.Reader
	if tc.body != "" {
		body = bytes.NewReader([]byte(tc.body))
	} else {
		body = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(tc.method, tc.path, body)
	if tc.token != "" {
		req.Header.Set("Authorization", "Bearer "+tc.token)
	}
	if tc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec
}

// check asserts the status and, for errors, the {code, message} body.
func (tc handlerCase) check(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != tc.status {
		t.Fatalf("%s %s: got %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.status)
	}
	if tc.code == "" {
		return
	}
	var eb errorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil {
		t.Fatalf("error body %q is not JSON: %v", rec.Body, err)
	}
	if eb.Code != tc.code || eb.Message == "" {
		t.Errorf("got error body %+v, want code %q and a message", eb, tc.code)
	}
	if tc.code == chatcore.EInternal && eb.Message != "internal error" {
		t.Errorf("internal error leaked %q", eb.Message)
	}
}

var errDBDown = errors.New("db: connection refused at 10.0.0.7:5432")

func failing(method string, err error) func(*fakeChat) {
	return func(f *fakeChat) { f.fail(method, err) }
}

// handlerCases covers every route of routes.go: success, auth failures,
// bad JSON and the mapping of domain errors to statuses.
var handlerCases = []handlerCase{
	// Accounts and auth.
	{route: "POST /v1/auth/register", name: "created", method: "POST", path: "/v1/auth/register", body: `{"username":"carol","password":"password-carol"}`, status: 201},
	{route: "POST /v1/auth/register", name: "taken", method: "POST", path: "/v1/auth/register", body: `{"username":"alice","password":"x"}`, status: 409, code: chatcore.EConflict},
	{route: "POST /v1/auth/register", name: "bad json", method: "POST", path: "/v1/auth/register", body: `{"username":`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/auth/register", name: "wrong type", method: "POST", path: "/v1/auth/register", body: `{"username":7}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/auth/register", name: "invalid", setup: failing("Register", chatcore.Errorf(chatcore.EInvalid, "username too short")), method: "POST", path: "/v1/auth/register", body: `{"username":"al"}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/auth/login", name: "ok", method: "POST", path: "/v1/auth/login", body: `{"username":"alice","password":"password-alice"}`, status: 200},
	{route: "POST /v1/auth/login", name: "wrong password", method: "POST", path: "/v1/auth/login", body: `{"username":"alice","password":"nope"}`, status: 401, code: chatcore.EUnauthorized},
	{route: "POST /v1/auth/login", name: "empty body", method: "POST", path: "/v1/auth/login", status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/auth/login", name: "internal", setup: failing("Login", errDBDown), method: "POST", path: "/v1/auth/login", body: `{"username":"alice","password":"password-alice"}`, status: 500, code: chatcore.EInternal},
	{route: "POST /v1/auth/refresh", name: "ok", method: "POST", path: "/v1/auth/refresh", body: `{"refresh_token":"refresh-alice"}`, status: 200},
	{route: "POST /v1/auth/refresh", name: "missing token", method: "POST", path: "/v1/auth/refresh", body: `{}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/auth/refresh", name: "bad token", method: "POST", path: "/v1/auth/refresh", body: `{"refresh_token":"stolen"}`, status: 401, code: chatcore.EUnauthorized},
	{route: "POST /v1/auth/logout", name: "ok", method: "POST", path: "/v1/auth/logout", body: `{"refresh_token":"refresh-alice"}`, status: 204},
	{route: "POST /v1/auth/logout", name: "missing token", method: "POST", path: "/v1/auth/logout", body: `{}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/auth/logout", name: "not json", method: "POST", path: "/v1/auth/logout", body: `[1]`, status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/me", name: "ok", method: "GET", path: "/v1/me", token: "tok-alice", status: 200},
	{route: "GET /v1/me", name: "no token", method: "GET", path: "/v1/me", status: 401, code: chatcore.EUnauthorized},
	{route: "GET /v1/me", name: "bad token", method: "GET", path: "/v1/me", token: "forged", status: 401, code: chatcore.EUnauthorized},
	{route: "GET /v1/users", name: "ok", method: "GET", path: "/v1/users?username=al&limit=5", token: "tok-alice", status: 200},
	{route: "GET /v1/users", name: "no prefix", method: "GET", path: "/v1/users", token: "tok-alice", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/users", name: "limit past max", method: "GET", path: "/v1/users?username=al&limit=101", token: "tok-alice", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/users", name: "no token", method: "GET", path: "/v1/users?username=al", status: 401, code: chatcore.EUnauthorized},
	{route: "GET /v1/users/{id}", name: "ok", method: "GET", path: "/v1/users/bob", token: "tok-alice", status: 200},
	{route: "GET /v1/users/{id}", name: "not found", method: "GET", path: "/v1/users/nobody", token: "tok-alice", status: 404, code: chatcore.ENotFound},
	{route: "GET /v1/users/{id}/presence", name: "ok", method: "GET", path: "/v1/users/bob/presence", token: "tok-alice", status: 200},
	{route: "GET /v1/users/{id}/presence", name: "not found", method: "GET", path: "/v1/users/nobody/presence", token: "tok-alice", status: 404, code: chatcore.ENotFound},
	{route: "GET /v1/users/{id}/presence", name: "internal", setup: failing("Presence", errDBDown), method: "GET", path: "/v1/users/bob/presence", token: "tok-alice", status: 500, code: chatcore.EInternal},

	// Conversations and messages.
	{route: "POST /v1/conversations", name: "created", method: "POST", path: "/v1/conversations", token: "tok-alice", body: `{"member_ids":["bob","root"],"title":"t"}`, status: 201},
	{route: "POST /v1/conversations", name: "bad json", method: "POST", path: "/v1/conversations", token: "tok-alice", body: `{"member_ids":"bob"}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/conversations", name: "too large", setup: failing("CreateConversation", chatcore.Errorf(chatcore.ETooLarge, "a group has at most 1000 members")), method: "POST", path: "/v1/conversations", token: "tok-alice", body: `{"member_ids":["bob"]}`, status: 413, code: chatcore.ETooLarge},
	{route: "POST /v1/conversations", name: "no token", method: "POST", path: "/v1/conversations", body: `{"member_ids":["bob"]}`, status: 401, code: chatcore.EUnauthorized},
	{route: "GET /v1/conversations", name: "ok", method: "GET", path: "/v1/conversations?limit=10", token: "tok-alice", status: 200},
	{route: "GET /v1/conversations", name: "bad before", method: "GET", path: "/v1/conversations?before=yesterday", token: "tok-alice", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/conversations", name: "limit past max", method: "GET", path: "/v1/conversations?limit=201", token: "tok-alice", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/conversations/{id}", name: "ok", method: "GET", path: "/v1/conversations/c1", token: "tok-alice", status: 200},
	{route: "GET /v1/conversations/{id}", name: "not a member", method: "GET", path: "/v1/conversations/c1", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/conversations/{id}/members", name: "ok", method: "POST", path: "/v1/conversations/c1/members", token: "tok-alice", body: `{"user_ids":["root"]}`, status: 200},
	{route: "POST /v1/conversations/{id}/members", name: "empty", method: "POST", path: "/v1/conversations/c1/members", token: "tok-alice", body: `{"user_ids":[]}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/conversations/{id}/members", name: "direct", setup: failing("AddMembers", chatcore.Errorf(chatcore.EForbidden, "members of a direct conversation cannot change")), method: "POST", path: "/v1/conversations/c1/members", token: "tok-alice", body: `{"user_ids":["root"]}`, status: 403, code: chatcore.EForbidden},
	{route: "DELETE /v1/conversations/{id}/members", name: "leave", method: "DELETE", path: "/v1/conversations/c1/members", token: "tok-alice", status: 204},
	{route: "DELETE /v1/conversations/{id}/members", name: "bad json", method: "DELETE", path: "/v1/conversations/c1/members", token: "tok-alice", body: `{`, status: 400, code: chatcore.EInvalid},
	{route: "DELETE /v1/conversations/{id}/members/{user_id}", name: "ok", method: "DELETE", path: "/v1/conversations/c1/members/bob", token: "tok-alice", status: 204},
	{route: "DELETE /v1/conversations/{id}/members/{user_id}", name: "not a member", method: "DELETE", path: "/v1/conversations/c1/members/bob", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "DELETE /v1/conversations/{id}/members/{user_id}", name: "not the creator", setup: failing("RemoveMember", chatcore.Errorf(chatcore.EForbidden, "only the creator may remove other members")), method: "DELETE", path: "/v1/conversations/c1/members/alice", token: "tok-bob", status: 403, code: chatcore.EForbidden},
	{route: "PATCH /v1/conversations/{id}/members/{user_id}", name: "ok", method: "PATCH", path: "/v1/conversations/c1/members/bob", token: "tok-alice", body: `{"role":"admin"}`, status: 200},
	{route: "PATCH /v1/conversations/{id}/members/{user_id}", name: "bad role", method: "PATCH", path: "/v1/conversations/c1/members/bob", token: "tok-alice", body: `{"role":"king"}`, status: 400, code: chatcore.EInvalid},
	{route: "PATCH /v1/conversations/{id}/members/{user_id}", name: "not a member", method: "PATCH", path: "/v1/conversations/c1/members/bob", token: "tok-root", body: `{"role":"admin"}`, status: 404, code: chatcore.ENotFound},
	{route: "PATCH /v1/conversations/{id}/members/{user_id}", name: "not the owner", setup: failing("SetMemberRole", chatcore.Errorf(chatcore.EForbidden, "only the owner may change roles")), method: "PATCH", path: "/v1/conversations/c1/members/alice", token: "tok-bob", body: `{"role":"member"}`, status: 403, code: chatcore.EForbidden},
	{route: "GET /v1/conversations/{id}/messages", name: "ok", method: "GET", path: "/v1/conversations/c1/messages?after=0&limit=200", token: "tok-alice", status: 200},
	{route: "GET /v1/conversations/{id}/messages", name: "before and after", method: "GET", path: "/v1/conversations/c1/messages?before=5&after=1", token: "tok-alice", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/conversations/{id}/messages", name: "limit past max", method: "GET", path: "/v1/conversations/c1/messages?limit=201", token: "tok-alice", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/conversations/{id}/messages", name: "not a member", method: "GET", path: "/v1/conversations/c1/messages", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/conversations/{id}/messages", name: "created", method: "POST", path: "/v1/conversations/c1/messages", token: "tok-alice", body: `{"client_id":"k1","body":"hi"}`, status: 201},
	{route: "POST /v1/conversations/{id}/messages", name: "location", method: "POST", path: "/v1/conversations/c1/messages", token: "tok-alice", body: `{"client_id":"k2","kind":"location","location":{"latitude":52.5,"longitude":13.4,"name":"Berlin"}}`, status: 201},
	{route: "POST /v1/conversations/{id}/messages", name: "not a member", method: "POST", path: "/v1/conversations/c1/messages", token: "tok-root", body: `{"client_id":"k1","body":"hi"}`, status: 403, code: chatcore.EForbidden},
	{route: "POST /v1/conversations/{id}/messages", name: "not json", method: "POST", path: "/v1/conversations/c1/messages", token: "tok-alice", body: `hi`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/conversations/{id}/messages", name: "internal", setup: failing("Send", errDBDown), method: "POST", path: "/v1/conversations/c1/messages", token: "tok-alice", body: `{"client_id":"k1","body":"hi"}`, status: 500, code: chatcore.EInternal},
	{route: "POST /v1/conversations/{id}/read", name: "ok", method: "POST", path: "/v1/conversations/c1/read", token: "tok-alice", body: `{"seq":3}`, status: 200},
	{route: "POST /v1/conversations/{id}/read", name: "seq 0", method: "POST", path: "/v1/conversations/c1/read", token: "tok-alice", body: `{"seq":0}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/conversations/{id}/read", name: "not a member", method: "POST", path: "/v1/conversations/c1/read", token: "tok-root", body: `{"seq":3}`, status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/conversations/{id}/delivered", name: "ok", method: "POST", path: "/v1/conversations/c1/delivered", token: "tok-bob", body: `{"seq":3}`, status: 200},
	{route: "POST /v1/conversations/{id}/delivered", name: "no token", method: "POST", path: "/v1/conversations/c1/delivered", body: `{"seq":3}`, status: 401, code: chatcore.EUnauthorized},

	// Push devices and notification settings.
	{route: "PUT /v1/devices", name: "ok", method: "PUT", path: "/v1/devices", token: "tok-alice", body: `{"platform":"fcm","token":"t","app_id":"a"}`, status: 200},
	{route: "PUT /v1/devices", name: "bad platform", method: "PUT", path: "/v1/devices", token: "tok-alice", body: `{"platform":"mpns","token":"t","app_id":"a"}`, status: 400, code: chatcore.EInvalid},
	{route: "PUT /v1/devices", name: "no token", method: "PUT", path: "/v1/devices", body: `{"platform":"fcm"}`, status: 401, code: chatcore.EUnauthorized},
	{route: "PUT /v1/devices", name: "internal", setup: failing("RegisterDevice", errDBDown), method: "PUT", path: "/v1/devices", token: "tok-alice", body: `{"platform":"fcm","token":"t","app_id":"a"}`, status: 500, code: chatcore.EInternal},
	{route: "GET /v1/devices", name: "ok", method: "GET", path: "/v1/devices", token: "tok-alice", status: 200},
	{route: "GET /v1/devices", name: "no token", method: "GET", path: "/v1/devices", status: 401, code: chatcore.EUnauthorized},
	{route: "DELETE /v1/devices/{id}", name: "ok", method: "DELETE", path: "/v1/devices/d1", token: "tok-alice", status: 204},
	{route: "DELETE /v1/devices/{id}", name: "not yours", method: "DELETE", path: "/v1/devices/d1", token: "tok-bob", status: 404, code: chatcore.ENotFound},
	{route: "GET /v1/conversations/{id}/notifications", name: "ok", method: "GET", path: "/v1/conversations/c1/notifications", token: "tok-alice", status: 200},
	{route: "GET /v1/conversations/{id}/notifications", name: "not a member", method: "GET", path: "/v1/conversations/c1/notifications", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "PUT /v1/conversations/{id}/notifications", name: "ok", method: "PUT", path: "/v1/conversations/c1/notifications", token: "tok-bob", body: `{"level":"none"}`, status: 200},
	{route: "PUT /v1/conversations/{id}/notifications", name: "bad level", method: "PUT", path: "/v1/conversations/c1/notifications", token: "tok-bob", body: `{"level":"loud"}`, status: 400, code: chatcore.EInvalid},
	{route: "PUT /v1/conversations/{id}/notifications", name: "malformed", method: "PUT", path: "/v1/conversations/c1/notifications", token: "tok-bob", body: `{`, status: 400, code: chatcore.EInvalid},

	// Real time: the upgrade itself is TestHandlerWebSocket.
	{route: "GET /v1/ws", name: "no token", method: "GET", path: "/v1/ws", status: 401, code: chatcore.EUnauthorized},
	{route: "GET /v1/ws", name: "bad token", method: "GET", path: "/v1/ws?access_token=forged", status: 401, code: chatcore.EUnauthorized},

	// Uploads and attachments.
	{route: "POST /v1/uploads", name: "created", method: "POST", path: "/v1/uploads", token: "tok-alice", body: `{"kind":"image","content_type":"image/png","size":10,"filename":"a.png"}`, status: 201},
	{route: "POST /v1/uploads", name: "unsupported", setup: failing("CreateUpload", chatcore.Errorf(chatcore.EUnsupported, "content type not allowed")), method: "POST", path: "/v1/uploads", token: "tok-alice", body: `{"kind":"image"}`, status: 415, code: chatcore.EUnsupported},
	{route: "POST /v1/uploads", name: "rate limited", setup: failing("CreateUpload", &chatcore.Error{Code: chatcore.ERateLimited, Message: "slow down", RetryAfter: 2e9}), method: "POST", path: "/v1/uploads", token: "tok-alice", body: `{"kind":"image"}`, status: 429, code: chatcore.ERateLimited},
	{route: "POST /v1/uploads/{id}/complete", name: "accepted", method: "POST", path: "/v1/uploads/a1/complete", token: "tok-alice", status: 202},
	{route: "GET /v1/uploads/{id}", name: "parts listed", method: "GET", path: "/v1/uploads/a1", token: "tok-alice", status: 200},
	{route: "GET /v1/uploads/{id}", name: "not the uploader", method: "GET", path: "/v1/uploads/a1", token: "tok-bob", status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/uploads/{id}/parts", name: "fresh urls", method: "POST", path: "/v1/uploads/a1/parts", token: "tok-alice", body: `{"numbers":[2]}`, status: 200},
	{route: "POST /v1/uploads/{id}/parts", name: "no numbers", method: "POST", path: "/v1/uploads/a1/parts", token: "tok-alice", body: `{"numbers":[]}`, status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/uploads/{id}/parts", name: "not the uploader", method: "POST", path: "/v1/uploads/a1/parts", token: "tok-bob", body: `{"numbers":[1]}`, status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/uploads/{id}/complete", name: "mismatch", setup: failing("CompleteUpload", chatcore.Errorf(chatcore.EUnprocessable, "bytes are not a PNG")), method: "POST", path: "/v1/uploads/a1/complete", token: "tok-alice", status: 422, code: chatcore.EUnprocessable},
	{route: "GET /v1/attachments/{id}", name: "ok", method: "GET", path: "/v1/attachments/a1", token: "tok-alice", status: 200},
	{route: "GET /v1/attachments/{id}", name: "not visible", method: "GET", path: "/v1/attachments/a1", token: "tok-bob", status: 404, code: chatcore.ENotFound},
	{route: "GET /v1/attachments/{id}/{variant}", name: "redirect", method: "GET", path: "/v1/attachments/a1/thumb", token: "tok-alice", status: 302},
	{route: "GET /v1/attachments/{id}/{variant}", name: "forbidden is not found", setup: failing("DownloadURL", chatcore.Errorf(chatcore.EForbidden, "not yours")), method: "GET", path: "/v1/attachments/a1/thumb", token: "tok-alice", status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/attachments/{id}/forward", name: "created", method: "POST", path: "/v1/attachments/a1/forward", token: "tok-alice", body: `{"conversation_id":"c1"}`, status: 201},
	{route: "POST /v1/attachments/{id}/forward", name: "not visible", method: "POST", path: "/v1/attachments/a1/forward", token: "tok-bob", body: `{"conversation_id":"c1"}`, status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/attachments/{id}/forward", name: "no conversation", method: "POST", path: "/v1/attachments/a1/forward", token: "tok-alice", body: `{}`, status: 400, code: chatcore.EInvalid},

	// Admin.
	{route: "GET /v1/admin/jobs", name: "ok", method: "GET", path: "/v1/admin/jobs?queue=image", token: "tok-root", status: 200},
	{route: "GET /v1/admin/jobs", name: "not admin", method: "GET", path: "/v1/admin/jobs", token: "tok-alice", status: 403, code: chatcore.EForbidden},
	{route: "GET /v1/admin/jobs", name: "limit past max", method: "GET", path: "/v1/admin/jobs?limit=1001", token: "tok-root", status: 400, code: chatcore.EInvalid},
	{route: "GET /v1/admin/jobs", name: "unknown queue", setup: failing("ListJobs", chatcore.Errorf(chatcore.EInvalid, "unknown queue")), method: "GET", path: "/v1/admin/jobs?queue=x", token: "tok-root", status: 400, code: chatcore.EInvalid},
	{route: "POST /v1/admin/jobs/{queue}/{task_id}/requeue", name: "ok", method: "POST", path: "/v1/admin/jobs/image/t1/requeue", token: "tok-root", status: 200},
	{route: "POST /v1/admin/jobs/{queue}/{task_id}/requeue", name: "not found", setup: failing("RequeueJob", chatcore.Errorf(chatcore.ENotFound, "no such task")), method: "POST", path: "/v1/admin/jobs/image/t9/requeue", token: "tok-root", status: 404, code: chatcore.ENotFound},
	{route: "POST /v1/admin/jobs/{queue}/{task_id}/requeue", name: "no token", method: "POST", path: "/v1/admin/jobs/image/t1/requeue", status: 401, code: chatcore.EUnauthorized},
	{route: "POST /v1/admin/jobs/requeue", name: "ok", method: "POST", path: "/v1/admin/jobs/requeue", token: "tok-root", body: `{"queue":"image"}`, status: 200},
	{route: "POST /v1/admin/jobs/requeue", name: "bad json", method: "POST", path: "/v1/admin/jobs/requeue", token: "tok-root", body: `{"queue":1}`, status: 400, code: chatcore.EInvalid},
	{route: "/admin/queues/", name: "not configured", method: "GET", path: "/admin/queues/", token: "tok-root", status: 404, code: chatcore.ENotFound},

	// Operations.
	{route: "GET /healthz", name: "ok", method: "GET", path: "/healthz", status: 200},
	{route: "GET /readyz", name: "ok", method: "GET", path: "/readyz", status: 200},
	{route: "GET /metrics", name: "ok", method: "GET", path: "/metrics", status: 200},
	{route: "GET /openapi.json", name: "ok", method: "GET", path: "/openapi.json", status: 200},
}

func TestHandlerRoutes(t *testing.T) {
	for _, tc := range handlerCases {
		t.Run(tc.route+"/"+tc.name, func(t *testing.T) {
			f := newFakeChat()
			if tc.setup != nil {
				tc.setup(f)
			}
			tc.check(t, tc.serve(t, f, nil))
		})
	}
}

// TestHandlerEveryRoute fails when a route of routes.go has no case above.
func TestHandlerEveryRoute(t *testing.T) {
	srv, err := New(newFakeChat().config())
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, tc := range handlerCases {
		covered[tc.route] = true
	}
	for _, rt := range srv.routes {
		if !covered[rt.pattern] {
			t.Errorf("route %q has no handler test case", rt.pattern)
		}
		delete(covered, rt.pattern)
	}
	for p := range covered {
		t.Errorf("handler test case names %q, which is not a route", p)
	}
}

// TestHandlerServicesMissing checks that uploads and jobs answer 503 when
// the server has none, and that New refuses a config without a chat service.
func TestHandlerServicesMissing(t *testing.T) {
	for _, tc := range []handlerCase{
		{method: "POST", path: "/v1/uploads", token: "tok-alice", body: `{}`, status: 503, code: CodeUnavailable},
		{method: "GET", path: "/v1/attachments/a1", token: "tok-alice", status: 503, code: CodeUnavailable},
		{method: "GET", path: "/v1/admin/jobs", token: "tok-root", status: 503, code: CodeUnavailable},
		{method: "GET", path: "/v1/devices", token: "tok-alice", status: 503, code: CodeUnavailable},
		{method: "PUT", path: "/v1/conversations/c1/notifications", token: "tok-alice", body: `{"level":"all"}`, status: 503, code: CodeUnavailable},
	} {
		tc.check(t, tc.serve(t, newFakeChat(), func(c *Config) { c.Uploads, c.Jobs, c.Devices = nil, nil, nil }))
	}
	cfg := newFakeChat().config()
	cfg.Typing = nil
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Typing") {
		t.Errorf("New without Typing: got %v, want an error naming it", err)
	}
}

// TestHandlerRetryAfter checks the header that comes with rate_limited.
func TestHandlerRetryAfter(t *testing.T) {
	tc := handlerCase{setup: failing("CreateUpload", &chatcore.Error{Code: chatcore.ERateLimited, Message: "slow down", RetryAfter: 1500e6}),
		method: "POST", path: "/v1/uploads", token: "tok-alice", body: `{}`, status: 429, code: chatcore.ERateLimited}
	f := newFakeChat()
	tc.setup(f)
	rec := tc.serve(t, f, nil)
	tc.check(t, rec)
	if got := rec.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After = %q, want 2 (1.5 s rounded up)", got)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != "" {
		t.Errorf("WWW-Authenticate on a 429: %q", got)
	}
	unauth := handlerCase{method: "GET", path: "/v1/me", status: 401, code: chatcore.EUnauthorized}
	if got := unauth.serve(t, newFakeChat(), nil).Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("WWW-Authenticate on a 401 = %q, want Bearer …", got)
	}
}
