package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// fakePassword is every fake user's password in the account routes.
const fakePassword = "correct horse"

// fakeAccounts is fakeChat's chatcore.AccountService (a type of its own:
// MessageService has a Delete too).
type fakeAccounts struct{ *fakeChat }

func (f fakeAccounts) ChangePassword(_ context.Context, userID, sessionID, current, next string) error {
	if err := f.enter("ChangePassword"); err != nil {
		return err
	}
	if current != fakePassword {
		return chatcore.Errorf(chatcore.EForbidden, "password is incorrect")
	}
	if len(next) < chatcore.MinPasswordBytes {
		return chatcore.Errorf(chatcore.EInvalid, "new password must be 8 to 256 bytes")
	}
	return nil
}

func (f fakeAccounts) Sessions(_ context.Context, userID, current string) ([]*chatcore.Session, error) {
	if err := f.enter("Sessions"); err != nil {
		return nil, err
	}
	return []*chatcore.Session{
		{ID: "sess-" + userID, DeviceName: "phone", Platform: "ios", CreatedAt: fakeNow, LastUsedAt: fakeNow, IP: "192.0.2.1", Current: current == "sess-"+userID},
		{ID: "other-" + userID, DeviceName: "tablet", Platform: "android", CreatedAt: fakeNow, LastUsedAt: fakeNow, IP: "192.0.2.2"},
	}, nil
}

func (f fakeAccounts) RevokeSession(_ context.Context, userID, sessionID string) error {
	if err := f.enter("RevokeSession"); err != nil {
		return err
	}
	if sessionID != "other-"+userID && sessionID != "sess-"+userID {
		return chatcore.Errorf(chatcore.ENotFound, "no session %s", sessionID)
	}
	return nil
}

func (f fakeAccounts) UpdateProfile(_ context.Context, userID string, req chatcore.ProfileUpdate) (*chatcore.User, error) {
	if err := f.enter("UpdateProfile"); err != nil {
		return nil, err
	}
	u, err := f.user(userID)
	if err != nil {
		return nil, err
	}
	c := *u
	if req.DisplayName != nil {
		if strings.TrimSpace(*req.DisplayName) == "" {
			return nil, chatcore.Errorf(chatcore.EInvalid, "display name must not be empty")
		}
		c.DisplayName = *req.DisplayName
	}
	if req.AvatarUploadID != nil {
		if *req.AvatarUploadID != "av1" && *req.AvatarUploadID != "" {
			return nil, chatcore.Errorf(chatcore.EInvalid, "avatar_upload_id: no upload of yours")
		}
		c.Avatar = chatcore.NewAvatar(*req.AvatarUploadID, "LEHV6nWB2yk8")
	}
	return &c, nil
}

func (f fakeAccounts) DeleteSelf(ctx context.Context, userID, password string) (*chatcore.AccountDeletion, error) {
	if err := f.enter("DeleteSelf"); err != nil {
		return nil, err
	}
	if password != fakePassword {
		return nil, chatcore.Errorf(chatcore.EForbidden, "password is incorrect")
	}
	return f.Delete(ctx, userID, userID)
}

func (f fakeAccounts) Delete(_ context.Context, userID, by string) (*chatcore.AccountDeletion, error) {
	if err := f.enter("Delete"); err != nil {
		return nil, err
	}
	if _, err := f.user(userID); err != nil {
		return nil, err
	}
	return &chatcore.AccountDeletion{UserID: userID, RequestedBy: by, Status: chatcore.DeletionPending, RequestedAt: fakeNow, UsernameFreeAt: fakeNow}, nil
}

func (f fakeAccounts) Deletion(_ context.Context, userID string) (*chatcore.AccountDeletion, error) {
	if err := f.enter("Deletion"); err != nil {
		return nil, err
	}
	if userID != "bob" {
		return nil, chatcore.Errorf(chatcore.ENotFound, "user %s was not deleted", userID)
	}
	return &chatcore.AccountDeletion{UserID: userID, RequestedBy: "root", Status: chatcore.DeletionDone, RequestedAt: fakeNow, FinishedAt: &fakeNow}, nil
}

func (f fakeAccounts) Purge(context.Context, string) error { return f.enter("Purge") }
func (f fakeAccounts) Sweep(context.Context) error         { return f.enter("Sweep") }

func (f fakeAccounts) Export(_ context.Context, userID string, w io.Writer) error {
	if err := f.enter("Export"); err != nil {
		return err
	}
	_, err := io.WriteString(w, `{"format":"parley-export-1","user":{"id":"`+userID+`"},"conversations":[],"messages":[]}`)
	return err
}

func init() {
	pw := func(cur, next string) string {
		b, _ := json.Marshal(map[string]string{"current": cur, "new": next})
		return string(b)
	}
	handlerCases = append(handlerCases,
		handlerCase{route: "POST /v1/me/password", name: "ok", method: "POST", path: "/v1/me/password", token: "tok-alice", body: pw(fakePassword, "new password 1"), status: 204},
		handlerCase{route: "POST /v1/me/password", name: "wrong current", method: "POST", path: "/v1/me/password", token: "tok-alice", body: pw("guess", "new password 1"), status: 403, code: chatcore.EForbidden},
		handlerCase{route: "POST /v1/me/password", name: "short new", method: "POST", path: "/v1/me/password", token: "tok-alice", body: pw(fakePassword, "short"), status: 400, code: chatcore.EInvalid},
		handlerCase{route: "POST /v1/me/password", name: "bad json", method: "POST", path: "/v1/me/password", token: "tok-alice", body: `{"current":`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "POST /v1/me/password", name: "no token", method: "POST", path: "/v1/me/password", body: pw(fakePassword, "new password 1"), status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "GET /v1/me/sessions", name: "ok", method: "GET", path: "/v1/me/sessions", token: "tok-alice", status: 200},
		handlerCase{route: "GET /v1/me/sessions", name: "no token", method: "GET", path: "/v1/me/sessions", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "DELETE /v1/me/sessions/{id}", name: "ok", method: "DELETE", path: "/v1/me/sessions/other-alice", token: "tok-alice", status: 204},
		handlerCase{route: "DELETE /v1/me/sessions/{id}", name: "someone else's", method: "DELETE", path: "/v1/me/sessions/other-bob", token: "tok-alice", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "DELETE /v1/me/sessions/{id}", name: "no token", method: "DELETE", path: "/v1/me/sessions/other-alice", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "PATCH /v1/me", name: "display name", method: "PATCH", path: "/v1/me", token: "tok-alice", body: `{"display_name":"Alice A."}`, status: 200},
		handlerCase{route: "PATCH /v1/me", name: "avatar", method: "PATCH", path: "/v1/me", token: "tok-alice", body: `{"avatar_upload_id":"av1"}`, status: 200},
		handlerCase{route: "PATCH /v1/me", name: "empty name", method: "PATCH", path: "/v1/me", token: "tok-alice", body: `{"display_name":"  "}`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "PATCH /v1/me", name: "no token", method: "PATCH", path: "/v1/me", body: `{"display_name":"x"}`, status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "DELETE /v1/me", name: "ok", method: "DELETE", path: "/v1/me", token: "tok-alice", body: `{"password":"` + fakePassword + `"}`, status: 202},
		handlerCase{route: "DELETE /v1/me", name: "wrong password", method: "DELETE", path: "/v1/me", token: "tok-alice", body: `{"password":"guess"}`, status: 403, code: chatcore.EForbidden},
		handlerCase{route: "DELETE /v1/me", name: "no password", method: "DELETE", path: "/v1/me", token: "tok-alice", body: `{}`, status: 400, code: chatcore.EInvalid},
		handlerCase{route: "DELETE /v1/me", name: "no token", method: "DELETE", path: "/v1/me", body: `{"password":"x"}`, status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "GET /v1/me/export", name: "ok", method: "GET", path: "/v1/me/export", token: "tok-alice", status: 200},
		handlerCase{route: "GET /v1/me/export", name: "no token", method: "GET", path: "/v1/me/export", status: 401, code: chatcore.EUnauthorized},
		handlerCase{route: "DELETE /v1/admin/users/{id}", name: "ok", method: "DELETE", path: "/v1/admin/users/bob", token: "tok-root", status: 202},
		handlerCase{route: "DELETE /v1/admin/users/{id}", name: "unknown", method: "DELETE", path: "/v1/admin/users/zed", token: "tok-root", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "DELETE /v1/admin/users/{id}", name: "not admin", method: "DELETE", path: "/v1/admin/users/bob", token: "tok-alice", status: 403, code: chatcore.EForbidden},
		handlerCase{route: "GET /v1/admin/users/{id}/deletion", name: "ok", method: "GET", path: "/v1/admin/users/bob/deletion", token: "tok-root", status: 200},
		handlerCase{route: "GET /v1/admin/users/{id}/deletion", name: "not deleted", method: "GET", path: "/v1/admin/users/alice/deletion", token: "tok-root", status: 404, code: chatcore.ENotFound},
		handlerCase{route: "GET /v1/admin/users/{id}/deletion", name: "not admin", method: "GET", path: "/v1/admin/users/bob/deletion", token: "tok-bob", status: 403, code: chatcore.EForbidden},
	)
}

// TestHandlerAccountReplies checks the bodies clients read: the current
// session is marked, the avatar has its square variants, the export is
// JSON of the caller only, and a login records the User-Agent's platform.
func TestHandlerAccountReplies(t *testing.T) {
	f := newFakeChat()
	rec := handlerCase{method: "GET", path: "/v1/me/sessions", token: "tok-alice"}.serve(t, f, nil)
	var ss sessionsReply
	if err := json.Unmarshal(rec.Body.Bytes(), &ss); err != nil {
		t.Fatal(err)
	}
	if len(ss.Sessions) != 2 || !ss.Sessions[0].Current || ss.Sessions[1].Current {
		t.Errorf("sessions: got %s, want the first (sess-alice) current only", rec.Body)
	}
	rec = handlerCase{method: "PATCH", path: "/v1/me", token: "tok-alice", body: `{"avatar_upload_id":"av1"}`}.serve(t, f, nil)
	var ur struct {
		User struct {
			Avatar *chatcore.Avatar `json:"avatar"`
		} `json:"user"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ur); err != nil {
		t.Fatal(err)
	}
	if a := ur.User.Avatar; a == nil || a.URLs["avatar_512"] != "/v1/attachments/av1/avatar_512" || a.URLs["avatar_96"] != "/v1/attachments/av1/avatar_96" || a.Blurhash == "" {
		t.Errorf("avatar: got %s, want both square variants and a blurhash", rec.Body)
	}
	rec = handlerCase{method: "GET", path: "/v1/me/export", token: "tok-bob"}.serve(t, f, nil)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" || !strings.Contains(rec.Body.String(), `"id":"bob"`) {
		t.Errorf("export: got %s %s, want bob's JSON", ct, rec.Body)
	}
	if got := platformOf("Parley/1.0 CFNetwork/1490 Darwin/23.2.0"); got != "ios" {
		t.Errorf("platformOf(iOS UA) = %q, want ios", got)
	}
	if got := platformOf("okhttp/4.12.0"); got != "android" {
		t.Errorf("platformOf(Android UA) = %q, want android", got)
	}
}

// TestHandlerExportRateLimited checks that a user cannot ask for archive
// after archive: the third in a row is refused with Retry-After.
func TestHandlerExportRateLimited(t *testing.T) {
	f := newFakeChat()
	srv, err := New(f.config())
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for range 3 {
		req := httptest.NewRequest("GET", "/v1/me/export", nil)
		req.Header.Set("Authorization", "Bearer tok-alice")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		codes = append(codes, rec.Code)
		if rec.Code == 429 && rec.Header().Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("three exports: got %v, want [200 200 429]", codes)
	}
}
