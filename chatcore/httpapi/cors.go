package httpapi

import (
	"net/http"
	"strconv"
)

// corsMaxAge is how long browsers may cache a preflight answer.
const corsMaxAge = 10 * 60

// cors lets web clients served from an allowed origin (the same host, or
// Config.AllowedOrigins: the same list as the WebSocket's) call the REST API.
// The API authenticates with bearer tokens, never ambient cookies, so no
// credentials mode is offered. Preflight requests are answered here, before
// routing; requests from other origins get no CORS headers (the browser
// blocks them) and are otherwise served as usual. Mounts are left alone.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || s.checkOrigin(r) != nil || s.isMount(r) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", "Retry-After, Location")
		next.ServeHTTP(w, r)
	})
}

// isMount reports whether r (or, for a preflight, the request it announces)
// goes to one of Config.Mounts, which answer CORS themselves (the dev-mode
// blob store serves uploads from any origin with signed URLs).
func (s *Server) isMount(r *http.Request) bool {
	if len(s.cfg.Mounts) == 0 {
		return false
	}
	probe := r
	if m := r.Header.Get("Access-Control-Request-Method"); r.Method == http.MethodOptions && m != "" {
		probe = r.Clone(r.Context())
		probe.Method = m
	}
	_, pattern := s.mux.Handler(probe)
	_, ok := s.cfg.Mounts[pattern]
	return ok
}
