package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// The access log writes one info line per request, after it is answered:
//
//	{"level":"INFO","msg":"http request","method":"POST","route":"POST /v1/conversations/{id}/messages",
//	 "status":201,"duration_ms":3,"bytes":412,"request_id":"9f2c…","user_id":"0193a1c2-…"}
//
// It names the route pattern, never the path or the query string (tokens,
// signed-URL signatures and ids stay out of logs), and the user only once
// a token was accepted. A WebSocket logs once, when it closes: status 101
// and the session's length. Config.NoAccessLog turns it off.

// accessEntry is filled by the inner layers: the route once the mux chose
// it, the user once authenticated.
type accessEntry struct {
	route  string
	userID string
}

type accessKey struct{}

// noteUser records the authenticated user for the access log line.
func noteUser(ctx context.Context, userID string) {
	if e, ok := ctx.Value(accessKey{}).(*accessEntry); ok {
		e.userID = userID
	}
}

// noteRoute records the route pattern for the access log line.
func noteRoute(ctx context.Context, route string) {
	if e, ok := ctx.Value(accessKey{}).(*accessEntry); ok {
		e.route = route
	}
}

// accessLog wraps next (the instrumented handler) with the access log.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		entry := &accessEntry{route: "unmatched"}
		r = withRequestID(r)
		r = r.WithContext(context.WithValue(r.Context(), accessKey{}, entry))
		cw := &countingWriter{ResponseWriter: w}
		defer func() {
			status := cw.status
			if status == 0 {
				status = http.StatusOK
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", entry.route),
				slog.Int("status", status),
				slog.Int64("duration_ms", time.Since(start).Milliseconds()),
				slog.Int64("bytes", cw.bytes),
				slog.String("request_id", requestID(r.Context())),
			}
			if entry.userID != "" {
				attrs = append(attrs, slog.String("user_id", entry.userID))
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
		}()
		next.ServeHTTP(cw, r)
	})
}

// countingWriter counts the body bytes written and remembers the status.
// It unwraps to the real writer so WebSocket upgrades (Hijack) and flushes
// still work.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
