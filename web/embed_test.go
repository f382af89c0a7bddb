package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func serve(t *testing.T, h *handler, path string) *http.Response {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /assets/", h.asset)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNotBuiltSaysHowToBuild(t *testing.T) {
	h := newHandler(fstest.MapFS{"README.md": {Data: []byte("placeholder")}}, Options{})
	r := serve(t, h, "/")
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("got %d, want 503", r.StatusCode)
	}
	if b := body(t, r); !strings.Contains(b, "make run") || !strings.Contains(b, "make web") {
		t.Fatalf("page does not say how to build: %s", b)
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestBuiltServesIndexAndAssets(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":         {Data: []byte(`<!doctype html><script type="module" src="/assets/main-ABC.js"></script>`)},
		"assets/main-ABC.js": {Data: []byte(`console.log(1)`)},
	}
	h := newHandler(fsys, Options{ConnectSrc: []string{"https://s3.example.com"}})

	r := serve(t, h, "/")
	if r.StatusCode != http.StatusOK || !strings.Contains(body(t, r), "/assets/main-ABC.js") {
		t.Fatalf("index: got %d", r.StatusCode)
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self' https://s3.example.com", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}

	r = serve(t, h, "/assets/main-ABC.js")
	if r.StatusCode != http.StatusOK || body(t, r) != "console.log(1)" {
		t.Fatalf("asset: got %d", r.StatusCode)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("asset Cache-Control %q", cc)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("asset Content-Type %q", ct)
	}

	for _, p := range []string{"/assets/", "/assets/nope.js"} {
		if r := serve(t, h, p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: got %d, want 404", p, r.StatusCode)
		}
	}
}

func TestMountsPatterns(t *testing.T) {
	m := Mounts(Options{})
	for _, p := range []string{"GET /{$}", "GET /assets/"} {
		if m[p] == nil {
			t.Errorf("no mount %q", p)
		}
	}
}
