package httpapi

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// The safety services of fakeChat: blocks are kept per caller, reports
// in a slice; admin methods check the caller's role as the real ones do.

func (f *fakeChat) Block(_ context.Context, callerID, userID string) error {
	if err := f.enter("Block"); err != nil {
		return err
	}
	if callerID == userID {
		return chatcore.Errorf(chatcore.EInvalid, "you cannot block yourself")
	}
	if _, err := f.user(userID); err != nil {
		return err
	}
	return nil
}

func (f *fakeChat) Unblock(_ context.Context, _, userID string) error {
	if err := f.enter("Unblock"); err != nil {
		return err
	}
	_, err := f.user(userID)
	return err
}

func (f *fakeChat) Blocks(context.Context, string) ([]chatcore.Block, error) {
	if err := f.enter("Blocks"); err != nil {
		return nil, err
	}
	return []chatcore.Block{{UserID: "bob", CreatedAt: fakeNow}}, nil
}

func (f *fakeChat) SafetySettings(context.Context, string) (chatcore.SafetySettings, error) {
	if err := f.enter("SafetySettings"); err != nil {
		return chatcore.SafetySettings{}, err
	}
	return chatcore.SafetySettings{GroupAdd: chatcore.GroupAddEveryone}, nil
}

func (f *fakeChat) SetSafetySettings(_ context.Context, _ string, s chatcore.SafetySettings) (chatcore.SafetySettings, error) {
	if err := f.enter("SetSafetySettings"); err != nil {
		return chatcore.SafetySettings{}, err
	}
	switch s.GroupAdd {
	case "", chatcore.GroupAddEveryone, chatcore.GroupAddContacts, chatcore.GroupAddNobody:
	default:
		return chatcore.SafetySettings{}, chatcore.Errorf(chatcore.EInvalid, "group_add must be everyone, contacts or nobody")
	}
	return s, nil
}

func (f *fakeChat) Report(_ context.Context, callerID string, req chatcore.ReportRequest) (*chatcore.Report, error) {
	if err := f.enter("Report"); err != nil {
		return nil, err
	}
	if (req.Message == nil) == (req.UserID == "") || !slices.Contains(chatcore.ReportReasons, req.Reason) {
		return nil, chatcore.Errorf(chatcore.EInvalid, "bad report")
	}
	r := &chatcore.Report{ID: "r1", ReporterID: callerID, Reason: req.Reason, Status: chatcore.ReportOpen, CreatedAt: fakeNow, Snapshot: json.RawMessage(`{}`)}
	if req.Message != nil {
		if _, err := f.member(req.Message.ConversationID, callerID, chatcore.ENotFound); err != nil {
			return nil, err
		}
		r.ConversationID, r.Seq = req.Message.ConversationID, req.Message.Seq
	} else {
		if _, err := f.user(req.UserID); err != nil {
			return nil, err
		}
		r.TargetUserID = req.UserID
	}
	return r, nil
}

func (f *fakeChat) admin(method, callerID string) error {
	if err := f.enter(method); err != nil {
		return err
	}
	if u, err := f.user(callerID); err != nil || u.Role != chatcore.RoleAdmin {
		return chatcore.Errorf(chatcore.EForbidden, "admin role required")
	}
	return nil
}

func (f *fakeChat) Reports(_ context.Context, callerID string, q chatcore.ReportQuery) ([]*chatcore.Report, error) {
	if err := f.admin("Reports", callerID); err != nil {
		return nil, err
	}
	if q.Status != "" && q.Status != chatcore.ReportOpen && q.Status != chatcore.ReportResolved {
		return nil, chatcore.Errorf(chatcore.EInvalid, "status must be open or resolved")
	}
	return []*chatcore.Report{}, nil
}

func (f *fakeChat) Resolve(_ context.Context, callerID, id, resolution string) (*chatcore.Report, error) {
	if err := f.admin("Resolve", callerID); err != nil {
		return nil, err
	}
	if id != "r1" {
		return nil, chatcore.Errorf(chatcore.ENotFound, "report not found")
	}
	now := fakeNow
	return &chatcore.Report{ID: id, Status: chatcore.ReportResolved, ResolvedAt: &now, ResolvedBy: callerID, Resolution: resolution, Snapshot: json.RawMessage(`{}`)}, nil
}

func (f *fakeChat) AdminUsers(_ context.Context, callerID, q string, _ int) ([]*chatcore.AdminUser, error) {
	if err := f.admin("AdminUsers", callerID); err != nil {
		return nil, err
	}
	out := []*chatcore.AdminUser{}
	for _, id := range []string{"alice", "bob", "root"} {
		if u, _ := f.user(id); u != nil && (q == "" || u.Username[:min(len(q), len(u.Username))] == q) {
			out = append(out, &chatcore.AdminUser{User: *u})
		}
	}
	return out, nil
}

func (f *fakeChat) DisableUser(_ context.Context, callerID, userID string) (*chatcore.AdminUser, error) {
	if err := f.admin("DisableUser", callerID); err != nil {
		return nil, err
	}
	u, err := f.user(userID)
	if err != nil {
		return nil, err
	}
	now := fakeNow
	return &chatcore.AdminUser{User: *u, DisabledAt: &now}, nil
}

func (f *fakeChat) EnableUser(_ context.Context, callerID, userID string) (*chatcore.AdminUser, error) {
	if err := f.admin("EnableUser", callerID); err != nil {
		return nil, err
	}
	u, err := f.user(userID)
	if err != nil {
		return nil, err
	}
	return &chatcore.AdminUser{User: *u}, nil
}

func init() {
	handlerCases = append(handlerCases,
		handlerCase{route: "GET /v1/me/blocks", name: "ok", method: "GET", path: "/v1/me/blocks", token: "tok-alice", status: 200},
		handlerCase{route: "GET /v1/me/blocks", name: "no token", method: "GET", path: "/v1/me/blocks", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "PUT /v1/me/blocks/{user_id}", name: "ok", method: "PUT", path: "/v1/me/blocks/bob", token: "tok-alice", status: 204},
		handlerCase{route: "PUT /v1/me/blocks/{user_id}", name: "self", method: "PUT", path: "/v1/me/blocks/alice", token: "tok-alice", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "PUT /v1/me/blocks/{user_id}", name: "unknown user", method: "PUT", path: "/v1/me/blocks/nobody", token: "tok-alice", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "PUT /v1/me/blocks/{user_id}", name: "too many", setup: failing("Block", chatcore.Errorf(chatcore.ETooLarge, "you can block at most 1000 users")), method: "PUT", path: "/v1/me/blocks/bob", token: "tok-alice", status: 413, code: chatcore.ETooLarge},
		handlerCase{route: "DELETE /v1/me/blocks/{user_id}", name: "ok", method: "DELETE", path: "/v1/me/blocks/bob", token: "tok-alice", status: 204},
		handlerCase{route: "DELETE /v1/me/blocks/{user_id}", name: "internal", setup: failing("Unblock", errDBDown), method: "DELETE", path: "/v1/me/blocks/bob", token: "tok-alice", status: 500, code: chatcore.EInternal},
		handlerCase{route: "GET /v1/me/safety", name: "ok", method: "GET", path: "/v1/me/safety", token: "tok-alice", status: 200},
		handlerCase{route: "PATCH /v1/me/safety", name: "ok", method: "PATCH", path: "/v1/me/safety", token: "tok-alice", body: `{"group_add":"contacts"}`, status: 200},
		handlerCase{route: "PATCH /v1/me/safety", name: "bad policy", method: "PATCH", path: "/v1/me/safety", token: "tok-alice", body: `{"group_add":"friends"}`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "PATCH /v1/me/safety", name: "bad json", method: "PATCH", path: "/v1/me/safety", token: "tok-alice", body: `{"group_add":1}`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "POST /v1/reports", name: "message", method: "POST", path: "/v1/reports", token: "tok-bob", body: `{"message":{"conversation_id":"c1","seq":1},"reason":"spam","note":"again"}`, status: 201},
		handlerCase{route: "POST /v1/reports", name: "user", method: "POST", path: "/v1/reports", token: "tok-bob", body: `{"user_id":"alice","reason":"harassment"}`, status: 201},
		handlerCase{route: "POST /v1/reports", name: "not visible", method: "POST", path: "/v1/reports", token: "tok-root", body: `{"message":{"conversation_id":"c1","seq":1},"reason":"spam"}`, status: 404, code: chatcore.ENotFound},
		handlerCase{route: "POST /v1/reports", name: "bad reason", method: "POST", path: "/v1/reports", token: "tok-bob", body: `{"user_id":"alice","reason":"boring"}`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "POST /v1/reports", name: "bad json", method: "POST", path: "/v1/reports", token: "tok-bob", body: `{"message":"c1"}`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/admin/reports", name: "ok", method: "GET", path: "/v1/admin/reports?status=open&limit=10", token: "tok-root", status: 200},
		handlerCase{route: "GET /v1/admin/reports", name: "not admin", method: "GET", path: "/v1/admin/reports", token: "tok-alice", status: 403, code: chatcore.EForbidden},
		handlerCase{route: "GET /v1/admin/reports", name: "bad status", method: "GET", path: "/v1/admin/reports?status=pending", token: "tok-root", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "GET /v1/admin/reports", name: "limit past max", method: "GET", path: "/v1/admin/reports?limit=201", token: "tok-root", status: 400, code: chatcore.EInvalid},
		handlerCase{route: "POST /v1/admin/reports/{id}/resolve", name: "ok", method: "POST", path: "/v1/admin/reports/r1/resolve", token: "tok-root", body: `{"resolution":"warned"}`, status: 200},
		handlerCase{route: "POST /v1/admin/reports/{id}/resolve", name: "no body", method: "POST", path: "/v1/admin/reports/r1/resolve", token: "tok-root", status: 200},
		handlerCase{route: "POST /v1/admin/reports/{id}/resolve", name: "not found", method: "POST", path: "/v1/admin/reports/r9/resolve", token: "tok-root", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "POST /v1/admin/reports/{id}/resolve", name: "resolved already", setup: failing("Resolve", chatcore.Errorf(chatcore.EConflict, "report is resolved already")), method: "POST", path: "/v1/admin/reports/r1/resolve", token: "tok-root", status: 409, code: chatcore.EConflict},
		handlerCase{route: "POST /v1/admin/reports/{id}/resolve", name: "not admin", method: "POST", path: "/v1/admin/reports/r1/resolve", token: "tok-bob", status: 403, code: chatcore.EForbidden},
		handlerCase{route: "GET /v1/admin/users", name: "ok", method: "GET", path: "/v1/admin/users?q=al&limit=5", token: "tok-root", status: 200},
		handlerCase{route: "GET /v1/admin/users", name: "not admin", method: "GET", path: "/v1/admin/users?q=al", token: "tok-alice", status: 403, code: chatcore.EForbidden},
		handlerCase{route: "GET /v1/admin/users", name: "no token", method: "GET", path: "/v1/admin/users", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "POST /v1/admin/users/{id}/disable", name: "ok", method: "POST", path: "/v1/admin/users/bob/disable", token: "tok-root", status: 200},
		handlerCase{route: "POST /v1/admin/users/{id}/disable", name: "unknown", method: "POST", path: "/v1/admin/users/nobody/disable", token: "tok-root", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "POST /v1/admin/users/{id}/disable", name: "not admin", method: "POST", path: "/v1/admin/users/bob/disable", token: "tok-alice", status: 403, code: chatcore.EForbidden},
		handlerCase{route: "POST /v1/admin/users/{id}/enable", name: "ok", method: "POST", path: "/v1/admin/users/bob/enable", token: "tok-root", status: 200},
		handlerCase{route: "POST /v1/admin/users/{id}/enable", name: "not admin", method: "POST", path: "/v1/admin/users/bob/enable", token: "tok-bob", status: 403, code: chatcore.EForbidden},
		handlerCase{route: "POST /v1/auth/login", name: "disabled", setup: failing("Login", chatcore.Errorf(chatcore.EAccountDisabled, "this account is disabled")), method: "POST", path: "/v1/auth/login", body: `{"username":"bob","password":"password-bob"}`, status: 403, code: chatcore.EAccountDisabled},
	)
}

// TestHandlerSafetyUnavailable: without the safety services their routes
// answer 503.
func TestHandlerSafetyUnavailable(t *testing.T) {
	for _, tc := range []handlerCase{
		{method: "GET", path: "/v1/me/blocks", token: "tok-alice", status: 503, code: CodeUnavailable},
		{method: "POST", path: "/v1/reports", token: "tok-alice", body: `{"user_id":"bob","reason":"spam"}`, status: 503, code: CodeUnavailable},
		{method: "GET", path: "/v1/admin/users", token: "tok-root", status: 503, code: CodeUnavailable},
	} {
		tc.check(t, tc.serve(t, newFakeChat(), func(c *Config) { c.Blocks, c.Reports, c.Moderation = nil, nil, nil }))
	}
}

// TestHandlerGroupCreateLimit: creating groups is limited per user, direct
// conversations are not.
func TestHandlerGroupCreateLimit(t *testing.T) {
	f := newFakeChat()
	cfg := f.config()
	cfg.RateLimits.GroupsPerHour, cfg.RateLimits.GroupsBurst = 1, 2
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	group := handlerCase{method: "POST", path: "/v1/conversations", token: "tok-alice", body: `{"member_ids":["bob","root"]}`, status: 201}
	direct := handlerCase{method: "POST", path: "/v1/conversations", token: "tok-alice", body: `{"member_ids":["bob"]}`, status: 201}
	for i := 0; i < 2; i++ {
		group.check(t, serveOn(t, srv, group))
	}
	limited := group
	limited.status, limited.code = 429, chatcore.ERateLimited
	limited.check(t, serveOn(t, srv, limited))
	direct.check(t, serveOn(t, srv, direct))
	other := handlerCase{method: "POST", path: "/v1/conversations", token: "tok-bob", body: `{"member_ids":["alice","root"]}`, status: 201}
	other.check(t, serveOn(t, srv, other))
}

// serveOn sends tc to srv (one server across requests, so limits carry).
func serveOn(t *testing.T, srv *Server, tc handlerCase) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
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
