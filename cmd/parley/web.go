package main

import (
	"net/http"
	"strings"

	"github.com/parley-chat/parley/web"
)

// withWeb adds the web client (web/, embedded at build time) to a node's
// mounts: the page at / and its assets under /assets/. parley dev always
// serves it; the store is the node itself there, so the page connects to
// its own origin only.
func withWeb(mounts map[string]http.Handler) map[string]http.Handler {
	for p, h := range web.Mounts(web.Options{}) {
		mounts[p] = h
	}
	return mounts
}

// webMounts is what parley serve mounts: the web client when PARLEY_WEB is
// true, its CSP allowing the S3 endpoint that uploads and downloads go to.
func webMounts(cfg Config) map[string]http.Handler {
	if !cfg.Web {
		return nil
	}
	var o web.Options
	if host := cfg.S3PublicEndpoint; host != "" || cfg.S3Endpoint != "" {
		if host == "" {
			host = cfg.S3Endpoint
		}
		scheme := "http://"
		if cfg.S3UseTLS {
			scheme = "https://"
		}
		if strings.Contains(host, "://") {
			scheme = ""
		}
		o.ConnectSrc = []string{scheme + host}
	}
	return web.Mounts(o)
}
