// Package web serves Parley's web client, the Preact app in web/app built
// on the TypeScript SDK in web/sdk. `make web` bundles it into web/dist,
// which is embedded here at go build time; built assets are never
// committed, so on a clean clone dist holds only a README and the handler
// answers / with a page saying how to build the client.
//
//	mounts := web.Mounts(web.Options{})
//	// httpapi.Config{Mounts: mounts}: "GET /{$}" and "GET /assets/"
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Options configures the web client's handler.
type Options struct {
	// ConnectSrc are extra origins the page may connect to besides its own
	// (the S3 endpoint that uploads and downloads go to), e.g.
	// "https://s3.example.com". Empty: same origin only (parley dev).
	ConnectSrc []string
}

// Built reports whether the embedded dist holds a built client.
func Built() bool {
	_, err := fs.Stat(dist, "dist/index.html")
	return err == nil
}

// Mounts returns the handlers to mount on the API's mux: the page at "/"
// and its hashed assets under "/assets/".
func Mounts(o Options) map[string]http.Handler {
	sub, _ := fs.Sub(dist, "dist")
	h := newHandler(sub, o)
	return map[string]http.Handler{
		"GET /{$}":     http.HandlerFunc(h.index),
		"GET /assets/": http.HandlerFunc(h.asset),
	}
}

type handler struct {
	fsys   fs.FS
	page   []byte
	csp    string
	assets http.Handler
}

func newHandler(fsys fs.FS, o Options) *handler {
	connect := append([]string{"'self'"}, o.ConnectSrc...)
	h := &handler{
		fsys: fsys,
		// No inline scripts or styles, no third-party origins: the bundle
		// and stylesheet come from /assets/, media from blob: URLs the app
		// makes after fetching variants with its token.
		csp: strings.Join([]string{
			"default-src 'none'",
			"script-src 'self'",
			"style-src 'self'",
			"img-src 'self' blob: data:",
			"media-src 'self' blob:",
			"connect-src " + strings.Join(connect, " "),
			"base-uri 'none'",
			"form-action 'self'",
			"frame-ancestors 'none'",
			"object-src 'none'",
		}, "; "),
		assets: http.StripPrefix("/assets/", http.FileServerFS(subOrEmpty(fsys, "assets"))),
	}
	if b, err := fs.ReadFile(fsys, "index.html"); err == nil {
		h.page = b
	}
	return h
}

func subOrEmpty(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return fsys
	}
	return sub
}

func (h *handler) headers(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", h.csp)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	h.headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if h.page == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(notBuilt))
		return
	}
	_, _ = w.Write(h.page)
}

func (h *handler) asset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/assets/")
	if name == "" || strings.HasSuffix(name, "/") {
		http.NotFound(w, r) // no directory listings
		return
	}
	h.headers(w)
	// Names carry a content hash: cache them for good.
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	h.assets.ServeHTTP(w, r)
}

const notBuilt = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley: web client not built</title></head>
<body>
<h1>Parley is running, but its web client was not built into this binary</h1>
<p>Run <code>make run</code> (or <code>make web</code>, then rebuild parley). The API and WebSocket work without it; see docs/protocol.md.</p>
</body></html>
`
