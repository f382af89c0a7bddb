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
// blocks them) and are otherwise served as usual.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || s.checkOrigin(r) != nil {
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
