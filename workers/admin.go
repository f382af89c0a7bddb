package workers

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
)

// externalAsset matches the tags of asynqmon's page that load from the
// internet (Roboto and Material Icons from Google Fonts). The UI draws its
// icons as inline SVG and falls back to system fonts, so it works without them.
var externalAsset = regexp.MustCompile(`<link[^>]*https?://fonts\.(googleapis|gstatic)\.com[^>]*>`)

// adminCSP keeps the browser from loading anything that is not served by
// Parley itself, should a future asynqmon page link something new.
const adminCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"

// AdminHandler serves the asynqmon UI with nothing loaded from the internet.
// It has no authentication: mount it behind the admin check.
type AdminHandler struct {
	mon  *asynqmon.HTTPHandler
	root string
}

// AdminUI returns the asynqmon UI and API rooted at rootPath (for example
// "/admin/queues"); mount it at rootPath and rootPath+"/" without stripping
// the prefix. Close it when done.
func AdminUI(redis asynq.RedisConnOpt, rootPath string) *AdminHandler {
	root := "/" + strings.Trim(rootPath, "/")
	return &AdminHandler{
		mon:  asynqmon.New(asynqmon.Options{RootPath: root, RedisConnOpt: redis}),
		root: root,
	}
}

// Close releases the Redis connections.
func (h *AdminHandler) Close() error { return h.mon.Close() }

// ServeHTTP implements http.Handler.
func (h *AdminHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, h.root+"/api/") {
		h.mon.ServeHTTP(w, r)
		return
	}
	// Page and static files: buffer them to rewrite the HTML.
	rec := &bufferedResponse{header: http.Header{}, code: http.StatusOK}
	h.mon.ServeHTTP(rec, r)
	body := rec.body.Bytes()
	ct := rec.header.Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(body)
		rec.header.Set("Content-Type", ct)
	}
	if strings.HasPrefix(ct, "text/html") {
		body = externalAsset.ReplaceAll(body, nil)
		rec.header.Set("Cache-Control", "no-store")
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Content-Security-Policy", adminCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(rec.code)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// bufferedResponse collects a response for rewriting.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
	wrote  bool
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.code, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}
