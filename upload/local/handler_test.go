package local_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/upload/local"
	"github.com/parley-chat/parley/upload/storetest"
)

func presign(t *testing.T, s *local.Store, key string, size int64) *upload.Presigned {
	t.Helper()
	p, err := s.PresignUpload(context.Background(), key, upload.UploadConstraints{ContentType: "image/png", Size: size, Expires: time.Minute})
	if err != nil {
		t.Fatalf("PresignUpload: %v", err)
	}
	return p
}

// putRequest turns a presigned POST into the equivalent PUT.
func putRequest(t *testing.T, p *upload.Presigned, body []byte, contentType string) *http.Request {
	t.Helper()
	q := url.Values{}
	for _, k := range []string{local.FieldExpires, local.FieldSize, local.FieldSignature} {
		q.Set(k, p.Fields[k])
	}
	req, err := http.NewRequest(http.MethodPut, p.URL+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	return req
}

func TestPut(t *testing.T) {
	store, _, srv := newStore(t)
	data := storetest.RandomBytes(t, 500)
	tests := []struct {
		name        string
		body        []byte
		contentType string
		want        int
	}{
		{"one byte over", append(append([]byte{}, data...), 0), "image/png", http.StatusRequestEntityTooLarge},
		{"one byte under", data[:499], "image/png", http.StatusBadRequest},
		{"wrong content type", data, "text/html", http.StatusForbidden},
		{"exact", data, "image/png", http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "uploads/put/" + strings.ReplaceAll(tc.name, " ", "-") + "/original"
			resp, err := srv.Client().Do(putRequest(t, presign(t, store, key, 500), tc.body, tc.contentType))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.want)
			}
			_, err = store.Stat(t.Context(), key)
			if stored := err == nil; stored != (tc.want == http.StatusOK) {
				t.Errorf("stored: got %v, want %v", stored, tc.want == http.StatusOK)
			}
		})
	}
}

func TestTamperedFields(t *testing.T) {
	store, _, srv := newStore(t)
	data := storetest.RandomBytes(t, 100)
	tests := []struct {
		name     string
		override map[string]string
		want     int
	}{
		{"larger size", map[string]string{local.FieldSize: "101"}, http.StatusForbidden},
		{"later expiry", map[string]string{local.FieldExpires: "99999999999"}, http.StatusForbidden},
		{"no signature", map[string]string{local.FieldSignature: "\x00"}, http.StatusForbidden},
		{"signature not base64", map[string]string{local.FieldSignature: "!!"}, http.StatusForbidden},
		{"no content type", map[string]string{local.FieldContentType: "\x00"}, http.StatusForbidden},
		{"lower-case field names work", map[string]string{local.FieldContentType: "\x00", "content-type": "image/png"}, http.StatusNoContent},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "uploads/tamper/" + string(rune('a'+i)) + "/original"
			resp, err := storetest.Send(t.Context(), srv.Client(), presign(t, store, key, 100), data, tc.override)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tc.want {
				t.Errorf("status: got %d, want %d (%s)", resp.Status, tc.want, resp.Body)
			}
		})
	}
}

func TestMalformedRequests(t *testing.T) {
	store, _, srv := newStore(t)
	p := presign(t, store, "uploads/x/y/original", 10)
	form := func(build func(*multipart.Writer)) (*bytes.Buffer, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		build(mw)
		mw.Close()
		return &b, mw.FormDataContentType()
	}
	noFile, noFileCT := form(func(mw *multipart.Writer) {
		for k, v := range p.Fields {
			mw.WriteField(k, v)
		}
	})
	hugeField, hugeFieldCT := form(func(mw *multipart.Writer) {
		mw.WriteField("x-ignore-pad", strings.Repeat("a", 9000))
	})
	tests := []struct {
		name   string
		method string
		path   string
		body   io.Reader
		ct     string
		want   int
	}{
		{"not multipart", http.MethodPost, "/v1/blobs/uploads/x/y/original", strings.NewReader("x"), "text/plain", http.StatusBadRequest},
		{"no file part", http.MethodPost, "/v1/blobs/uploads/x/y/original", noFile, noFileCT, http.StatusBadRequest},
		{"field too large", http.MethodPost, "/v1/blobs/uploads/x/y/original", hugeField, hugeFieldCT, http.StatusBadRequest},
		{"dot-dot key", http.MethodGet, "/v1/blobs/uploads/../../etc/passwd", nil, "", http.StatusNotFound},
		{"encoded dot-dot key", http.MethodGet, "/v1/blobs/uploads/%2e%2e/%2e%2e/secret", nil, "", http.StatusNotFound},
		{"empty key", http.MethodGet, "/v1/blobs/", nil, "", http.StatusNotFound},
		{"unsigned download", http.MethodGet, "/v1/blobs/uploads/x/y/original", nil, "", http.StatusForbidden},
		{"delete", http.MethodDelete, "/v1/blobs/uploads/x/y/original", nil, "", http.StatusMethodNotAllowed},
		{"preflight", http.MethodOptions, "/v1/blobs/uploads/x/y/original", nil, "", http.StatusNoContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestDownloadHeaders(t *testing.T) {
	store, _, srv := newStore(t)
	ctx := t.Context()
	key := "uploads/d/e/original"
	page := []byte("<html><script>alert(1)</script></html>")
	if err := store.Put(ctx, key, bytes.NewReader(page), int64(len(page)), "text/html"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	u, err := store.PresignDownload(ctx, key, time.Minute, "page.html")
	if err != nil {
		t.Fatalf("PresignDownload: %v", err)
	}
	resp, err := storetest.Get(ctx, srv.Client(), u)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"Content-Disposition":     `attachment; filename=page.html`,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
	// A signed URL for one file name does not serve another.
	pu, _ := url.Parse(u)
	q := pu.Query()
	q.Set(local.FieldDisposition, "inline")
	pu.RawQuery = q.Encode()
	if resp, err := storetest.Get(ctx, srv.Client(), pu.String()); err != nil || resp.Status != http.StatusForbidden {
		t.Errorf("changed disposition: got %v, %v, want 403", resp, err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  local.Config
		ok   bool
	}{
		{"ok", local.Config{Dir: "d", BaseURL: "http://127.0.0.1:8080", Secret: make([]byte, 16)}, true},
		{"no dir", local.Config{BaseURL: "http://x", Secret: make([]byte, 16)}, false},
		{"relative base", local.Config{Dir: "d", BaseURL: "127.0.0.1:8080", Secret: make([]byte, 16)}, false},
		{"short secret", local.Config{Dir: "d", BaseURL: "http://x", Secret: make([]byte, 15)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate: got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
