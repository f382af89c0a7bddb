package httpapi

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// fakeUploads is an UploadService that knows one attachment, visible to
// its owner only.
type fakeUploads struct {
	owner string
	mu    sync.Mutex
	calls int
}

func (f *fakeUploads) CreateUpload(ctx context.Context, userID string, req chatcore.UploadRequest) (*chatcore.UploadTicket, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if n > 2 {
		return nil, &chatcore.Error{Code: chatcore.ERateLimited, Message: "too many uploads", RetryAfter: 1500 * time.Millisecond}
	}
	if req.Kind == "hologram" {
		return nil, chatcore.Errorf(chatcore.EUnsupported, "kind %q is not supported", req.Kind)
	}
	if req.Size > 25<<20 {
		return nil, chatcore.Errorf(chatcore.ETooLarge, "images are at most 25 MiB")
	}
	return &chatcore.UploadTicket{
		Upload:    &chatcore.Attachment{ID: "att1", Status: chatcore.StatusPending, Kind: req.Kind},
		Method:    "POST",
		URL:       "https://store.example/bucket",
		Fields:    map[string]string{"key": "u/att1", "policy": "p"},
		ExpiresAt: time.Now().Add(15 * time.Minute),
	}, nil
}

func (f *fakeUploads) CompleteUpload(ctx context.Context, userID, id string) (*chatcore.Attachment, error) {
	if id == "mismatch" {
		return nil, chatcore.Errorf(chatcore.EUnprocessable, "the file is a PNG, not a voice note")
	}
	if userID != f.owner || id != "att1" {
		return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
	}
	return &chatcore.Attachment{ID: "att1", Status: chatcore.StatusProcessing}, nil
}

func (f *fakeUploads) UploadStatus(ctx context.Context, userID, id string) (*chatcore.UploadStatus, error) {
	return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
}

func (f *fakeUploads) PartURLs(ctx context.Context, userID, id string, numbers []int) (*chatcore.UploadTicket, error) {
	return nil, chatcore.Errorf(chatcore.ENotFound, "upload not found")
}

func (f *fakeUploads) Attachment(ctx context.Context, userID, id string) (*chatcore.Attachment, error) {
	if userID != f.owner || id != "att1" {
		return nil, chatcore.Errorf(chatcore.ENotFound, "attachment not found")
	}
	return &chatcore.Attachment{ID: "att1", Status: chatcore.StatusProcessing}, nil
}

func (f *fakeUploads) DownloadURL(ctx context.Context, userID, id, variant string) (string, error) {
	if userID != f.owner || id != "att1" {
		return "", chatcore.Errorf(chatcore.EForbidden, "not yours")
	}
	if variant != "original" {
		return "", chatcore.Errorf(chatcore.ENotFound, "no such variant")
	}
	return "https://store.example/bucket/u/att1?X-Amz-Signature=abc", nil
}

func TestUploadRoutes(t *testing.T) {
	up := &fakeUploads{}
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.Uploads = up }})
	owner, other := e.register("owner"), e.register("other")
	up.owner = owner.user.ID

	var ticket chatcore.UploadTicket
	e.must(201, "POST", "/v1/uploads", owner.access, map[string]any{"kind": "image", "content_type": "image/jpeg", "size": 1000, "filename": "a.jpg"}, &ticket)
	if ticket.Upload.ID != "att1" || ticket.Method != "POST" || ticket.Fields["key"] == "" {
		t.Errorf("ticket = %+v", ticket)
	}
	if r := e.do("POST", "/v1/uploads", owner.access, map[string]any{"kind": "hologram"}); r.status != 415 || r.errorCode(t) != "unsupported" {
		t.Errorf("unsupported kind: %d %s, want 415", r.status, r.body)
	}
	r := e.do("POST", "/v1/uploads", owner.access, map[string]any{"kind": "image", "size": 1})
	if r.status != 429 || r.errorCode(t) != "rate_limited" || r.header.Get("Retry-After") != "2" {
		t.Errorf("rate limited upload: %d Retry-After %q %s, want 429 with Retry-After 2", r.status, r.header.Get("Retry-After"), r.body)
	}

	var done attachmentReply
	e.must(202, "POST", "/v1/uploads/att1/complete", owner.access, nil, &done)
	if done.Attachment.Status != chatcore.StatusProcessing {
		t.Errorf("completed attachment status %q, want processing", done.Attachment.Status)
	}
	if r := e.do("POST", "/v1/uploads/mismatch/complete", owner.access, nil); r.status != 422 || r.errorCode(t) != "unprocessable" {
		t.Errorf("mismatched upload: %d %s, want 422", r.status, r.body)
	}
	e.must(200, "GET", "/v1/attachments/att1", owner.access, nil, nil)
	if r := e.do("GET", "/v1/attachments/att1", other.access, nil); r.status != 404 {
		t.Errorf("stranger reads metadata: %d, want 404", r.status)
	}

	r = e.must(302, "GET", "/v1/attachments/att1/original", owner.access, nil, nil)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "https://store.example/") {
		t.Errorf("redirect to %q", loc)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("redirect Cache-Control %q, want no-store", cc)
	}
	// Not allowed is not found, never forbidden: it does not confirm the
	// attachment exists.
	if r := e.do("GET", "/v1/attachments/att1/original", other.access, nil); r.status != 404 || r.errorCode(t) != "not_found" {
		t.Errorf("stranger download: %d %s, want 404", r.status, r.body)
	}
	if r := e.do("GET", "/v1/attachments/att1/original", "", nil); r.status != 401 {
		t.Errorf("anonymous download: %d, want 401", r.status)
	}
}

// fakeJobs records what admins asked for.
type fakeJobs struct {
	mu       sync.Mutex
	requeued []string
}

func (f *fakeJobs) ListJobs(ctx context.Context, queue, state string, limit int) ([]chatcore.Job, error) {
	if state != "archived" && state != "retry" && state != "pending" && state != "active" {
		return nil, chatcore.Errorf(chatcore.EInvalid, "unknown state %q", state)
	}
	return []chatcore.Job{{Queue: "image", TaskID: "att1", AttachmentID: "att1", Kind: "image", State: state, Error: "corrupt"}}, nil
}

func (f *fakeJobs) RequeueJob(ctx context.Context, queue, taskID string) error {
	if taskID != "att1" {
		return chatcore.Errorf(chatcore.ENotFound, "no such task")
	}
	f.mu.Lock()
	f.requeued = append(f.requeued, queue+"/"+taskID)
	f.mu.Unlock()
	return nil
}

func (f *fakeJobs) RequeueAll(ctx context.Context, queue, state string) (int, error) {
	return 3, nil
}

func TestAdminRoutes(t *testing.T) {
	jobs := &fakeJobs{}
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>queues " + r.URL.Path + "</html>"))
	})
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.Jobs = jobs
		c.AdminUI = ui
	}})
	if _, err := e.svc.Auth.EnsureAdmin(context.Background(), "root", "root password 123", false); err != nil {
		t.Fatal(err)
	}
	var ar authReply
	e.must(200, "POST", "/v1/auth/login", "", map[string]string{"username": "root", "password": "root password 123"}, &ar)
	admin := ar.AccessToken
	user := e.register("plain").access

	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/admin/jobs?queue=image&state=archived", nil},
		{"POST", "/v1/admin/jobs/image/att1/requeue", nil},
		{"POST", "/v1/admin/jobs/requeue", map[string]string{"queue": "image", "state": "archived"}},
		{"GET", "/admin/queues/", nil},
		{"GET", "/admin/queues/api/queues", nil},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			if r := e.do(rt.method, rt.path, "", rt.body); r.status != 401 || r.errorCode(t) != "unauthorized" {
				t.Errorf("no token: %d %s, want 401", r.status, r.body)
			}
			if r := e.do(rt.method, rt.path, user, rt.body); r.status != 403 || r.errorCode(t) != "forbidden" {
				t.Errorf("non-admin: %d %s, want 403", r.status, r.body)
			}
			if r := e.do(rt.method, rt.path, admin, rt.body); r.status != 200 {
				t.Errorf("admin: %d %s, want 200", r.status, r.body)
			}
		})
	}

	var jr jobsReply
	e.must(200, "GET", "/v1/admin/jobs?state=archived", admin, nil, &jr)
	if len(jr.Jobs) != 1 || jr.Jobs[0].TaskID != "att1" {
		t.Errorf("jobs = %+v", jr.Jobs)
	}
	if r := e.do("GET", "/v1/admin/jobs?state=bogus", admin, nil); r.status != 400 {
		t.Errorf("bogus state: %d, want 400", r.status)
	}
	if r := e.do("POST", "/v1/admin/jobs/image/nope/requeue", admin, nil); r.status != 404 {
		t.Errorf("unknown task: %d, want 404", r.status)
	}
	var rq requeueReply
	e.must(200, "POST", "/v1/admin/jobs/requeue", admin, map[string]string{"state": "archived"}, &rq)
	if rq.Requeued != 3 {
		t.Errorf("requeued = %d, want 3", rq.Requeued)
	}

	t.Run("dashboard login by query token sets a cookie", func(t *testing.T) {
		r := e.do("GET", "/admin/queues/?access_token="+admin, "", nil)
		if r.status != http.StatusSeeOther {
			t.Fatalf("query token: %d, want 303", r.status)
		}
		if loc := r.header.Get("Location"); strings.Contains(loc, "access_token") {
			t.Errorf("redirect keeps the token in the URL: %q", loc)
		}
		var cookie *http.Cookie
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			if c.Name == adminCookie {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/admin/queues" {
			t.Fatalf("admin cookie = %+v", cookie)
		}
		req, _ := http.NewRequest("GET", e.ts.URL+"/admin/queues/", nil)
		req.AddCookie(cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("cookie login: %d, want 200", resp.StatusCode)
		}
		if r := e.do("GET", "/admin/queues/?access_token="+user, "", nil); r.status != 403 {
			t.Errorf("non-admin query token: %d, want 403", r.status)
		}
	})
}

func TestOptionalServicesUnavailable(t *testing.T) {
	e := newEnv(t, envOptions{})
	if _, err := e.svc.Auth.EnsureAdmin(context.Background(), "root", "root password 123", false); err != nil {
		t.Fatal(err)
	}
	var ar authReply
	e.must(200, "POST", "/v1/auth/login", "", map[string]string{"username": "root", "password": "root password 123"}, &ar)
	for _, p := range []string{"/v1/admin/jobs", "/v1/attachments/x", "/v1/attachments/x/original"} {
		if r := e.do("GET", p, ar.AccessToken, nil); r.status != 503 || r.errorCode(t) != CodeUnavailable {
			t.Errorf("GET %s without the service: %d %s, want 503 unavailable", p, r.status, r.body)
		}
	}
	if r := e.do("GET", "/admin/queues/", ar.AccessToken, nil); r.status != 404 {
		t.Errorf("dashboard without AdminUI: %d, want 404", r.status)
	}
}

func TestMounts(t *testing.T) {
	blob := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("bytes")) })
	e := newEnv(t, envOptions{cfg: func(c *Config) { c.Mounts = map[string]http.Handler{"GET /blobs/{key...}": blob} }})
	if r := e.must(200, "GET", "/blobs/a/b", "", nil, nil); string(r.body) != "bytes" {
		t.Errorf("mounted handler answered %q", r.body)
	}
	_, err := New(withServices(Config{Mounts: map[string]http.Handler{"GET /v1/me": blob}}, e.svc))
	if err == nil {
		t.Error("a mount that conflicts with a route was accepted")
	}
}
