package httpapi

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHandlerSlowBodyCutOff: a client that announces a body and never sends
// it is answered and dropped once BodyReadTimeout passes, on API routes and
// on mounts alike, instead of holding the connection forever (issue 12).
func TestHandlerSlowBodyCutOff(t *testing.T) {
	f := newFakeChat()
	cfg := f.config()
	cfg.BodyReadTimeout = 200 * time.Millisecond
	cfg.Mounts = map[string]http.Handler{"/blob/": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "could not read the body", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	for _, target := range []string{"POST /v1/auth/login", "POST /v1/conversations", "PUT /blob/x"} {
		method, path, _ := strings.Cut(target, " ")
		conn, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.WriteString(conn, method+" "+path+" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+"tok-alice"+
			"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		if err != nil {
			t.Fatal(err)
		}
		// Far longer than BodyReadTimeout: a timeout here means the server
		// is still waiting for the body.
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Errorf("%s: server still waiting for the body after 10 s", target)
		} else if err == nil {
			if resp.StatusCode < 400 {
				t.Errorf("%s: incomplete body answered %d", target, resp.StatusCode)
			}
			resp.Body.Close()
		}
		conn.Close()
	}

	// A body sent in full is still served.
	resp, err := http.Post(ts.URL+"/blob/y", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("complete body: %d, want 204", resp.StatusCode)
	}
}

// TestHandlerMetricsToken: with MetricsToken set, /metrics answers only
// with that bearer token (issue 12: it was open on the public listener).
func TestHandlerMetricsToken(t *testing.T) {
	f := newFakeChat()
	cfg := f.config()
	cfg.MetricsToken = "scrape-secret"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer tok-alice", 401}, {"Bearer scrape-secret", 200}} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("/metrics with %q: %d, want %d", tc.auth, rec.Code, tc.status)
		}
		if tc.status == 200 && !strings.Contains(rec.Body.String(), "# TYPE") {
			t.Errorf("/metrics body is not the exposition format: %.100s", rec.Body)
		}
	}
}

// TestHandlerAdminCookieSecureBehindProxy: behind a TLS proxy (the node
// sees plain HTTP) the admin cookie is still Secure when SecureCookies is
// set, as it is for an https public URL.
func TestHandlerAdminCookieSecureBehindProxy(t *testing.T) {
	f := newFakeChat()
	cfg := f.config()
	cfg.SecureCookies = true
	cfg.AdminUI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/admin/queues/?access_token=tok-root", nil)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("admin UI with token: %d %s, want 303", rec.Code, rec.Body)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].Secure {
		t.Errorf("cookies %+v, want one Secure cookie", cookies)
	}
}
