package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// CodeUnavailable is the code of 503 answers: an optional component
// (uploads, jobs) is not configured, the node is shutting down or not ready.
const CodeUnavailable = "unavailable"

// statusByCode is the one table that maps chatcore error codes to HTTP
// statuses. WebSocket error frames carry the code itself.
var statusByCode = map[string]int{
	chatcore.EInvalid:         http.StatusBadRequest,
	chatcore.EUnauthorized:    http.StatusUnauthorized,
	chatcore.EForbidden:       http.StatusForbidden,
	chatcore.ENotFound:        http.StatusNotFound,
	chatcore.EConflict:        http.StatusConflict,
	chatcore.ETooLarge:        http.StatusRequestEntityTooLarge,
	chatcore.EUnprocessable:   http.StatusUnprocessableEntity,
	chatcore.EUnsupported:     http.StatusUnsupportedMediaType,
	chatcore.ERateLimited:     http.StatusTooManyRequests,
	chatcore.EInternal:        http.StatusInternalServerError,
	CodeUnavailable:           http.StatusServiceUnavailable,
	chatcore.EAccountDisabled: http.StatusForbidden,
	chatcore.EGone:            http.StatusGone,
}

// statusClientClosedRequest (nginx's 499) records requests whose client
// disconnected before the answer.
const statusClientClosedRequest = 499

// httpStatus returns the HTTP status for a chatcore error code.
func httpStatus(code string) int {
	if st, ok := statusByCode[code]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// errorBody is every REST error reply and the payload of WebSocket error frames.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeJSON writes v as a JSON reply with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Replies are plain structs: this is a programming error.
		b = []byte(`{"code":"internal","message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte{'\n'})
}

// writeCodeError writes {code, message} with the status of code.
func writeCodeError(w http.ResponseWriter, code, msg string) {
	writeJSON(w, httpStatus(code), errorBody{Code: code, Message: msg})
}

// writeError replies with err mapped through statusByCode. It is the one
// place a REST request's internal error is logged (the services only wrap
// and return them): once, with the request id and route, while the client
// gets a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := chatcore.ErrorCode(err)
	if code == chatcore.EInternal && r.Context().Err() != nil && errors.Is(err, r.Context().Err()) {
		// The client went away mid-request: nothing failed on our side and
		// nobody reads the answer. 499 keeps it out of the 5xx metrics.
		w.WriteHeader(statusClientClosedRequest)
		return
	}
	if code == chatcore.EInternal {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", r.Pattern),
			slog.Any("error", err))
	}
	var ce *chatcore.Error
	if errors.As(err, &ce) && ce.RetryAfter > 0 {
		setRetryAfter(w, ce.RetryAfter)
	}
	if code == chatcore.EUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	writeCodeError(w, code, chatcore.ErrorMessage(err))
}

func setRetryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}

// decodeJSON reads a JSON request body into dst: at most MaxBodyBytes,
// unknown fields ignored, one value only. Errors are *chatcore.Error with a
// message that tells the client what is wrong.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return chatcore.Errorf(chatcore.EUnsupported, "request body must be application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return chatcore.Errorf(chatcore.EInvalid, "request body must be a single JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a client-facing *chatcore.Error.
func jsonError(err error) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooBig  *http.MaxBytesError
		invalid *json.InvalidUnmarshalError
	)
	switch {
	case errors.Is(err, io.EOF):
		return chatcore.Errorf(chatcore.EInvalid, "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return chatcore.Errorf(chatcore.EInvalid, "malformed JSON: unexpected end of input")
	case errors.As(err, &syntax):
		return chatcore.Errorf(chatcore.EInvalid, "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field != "" {
			return chatcore.Errorf(chatcore.EInvalid, "field %q must be %s, not %s", typ.Field, jsonTypeName(typ.Type.String()), typ.Value)
		}
		return chatcore.Errorf(chatcore.EInvalid, "request body must be a JSON object, not %s", typ.Value)
	case errors.As(err, &tooBig):
		return chatcore.Errorf(chatcore.ETooLarge, "request body exceeds %d bytes", tooBig.Limit)
	case errors.As(err, &invalid):
		return fmt.Errorf("decode json: %w", err)
	}
	return chatcore.Errorf(chatcore.EInvalid, "malformed JSON: %s", err.Error())
}

func jsonTypeName(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}
