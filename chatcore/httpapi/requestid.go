package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// maxRequestIDBytes bounds an X-Request-Id taken from the caller.
const maxRequestIDBytes = 64

type requestIDKey struct{}

// withRequestID returns r with its request id in the context: the
// caller's X-Request-Id (set by a proxy) when it is a short printable token,
// else a new random one. Internal errors are logged with it (writeError,
// and sendError for the frames of a socket, which keeps the id of its
// upgrade request).
func withRequestID(r *http.Request) *http.Request {
	if requestID(r.Context()) != "" {
		return r // an outer layer (the access log) set it
	}
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		var b [8]byte
		rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	return r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
}

// requestID returns the id withRequestID put in ctx, or "".
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}
