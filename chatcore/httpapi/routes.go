package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// route is one entry of the API: a ServeMux pattern ("METHOD /path") and
// its handler, already wrapped with its access check. docs/openapi.json
// documents every route of the table (a test keeps them in step).
type route struct {
	pattern string
	handler http.Handler
}

// routeTable is every route Parley serves, in one place.
func (s *Server) routeTable() []route {
	user := s.requireUser
	admin := s.requireAdmin
	return []route{
		// Accounts and auth.
		{"POST /v1/auth/register", s.limitAuth(s.handleRegister)},
		{"POST /v1/auth/login", s.limitAuth(s.handleLogin)},
		{"POST /v1/auth/refresh", s.limitAuth(s.handleRefresh)},
		{"POST /v1/auth/logout", s.limitAuth(s.handleLogout)},
		{"GET /v1/me", user(s.handleMe)},
		{"PATCH /v1/me", user(s.handleUpdateProfile)},
		{"DELETE /v1/me", s.limitAuth(user(s.handleDeleteMe))},
		{"POST /v1/me/password", s.limitAuth(user(s.handleChangePassword))},
		{"GET /v1/me/sessions", user(s.handleSessions)},
		{"DELETE /v1/me/sessions/{id}", user(s.handleRevokeSession)},
		{"GET /v1/me/export", user(s.handleExport)},
		{"GET /v1/users", user(s.handleFindUsers)},
		{"GET /v1/users/{id}", user(s.handleUser)},
		{"GET /v1/users/{id}/presence", user(s.handlePresence)},

		// Conversations and messages.
		{"POST /v1/conversations", user(s.handleCreateConversation)},
		{"GET /v1/conversations", user(s.handleListConversations)},
		{"GET /v1/conversations/{id}", user(s.handleConversation)},
		{"POST /v1/conversations/{id}/members", user(s.handleAddMembers)},
		{"DELETE /v1/conversations/{id}/members", user(s.handleRemoveMember)},
		{"DELETE /v1/conversations/{id}/members/{user_id}", user(s.handleRemoveMember)},
		{"PATCH /v1/conversations/{id}/members/{user_id}", user(s.handleSetMemberRole)},
		{"PATCH /v1/conversations/{id}", user(s.handleSetTitle)},
		{"GET /v1/conversations/{id}/messages/{seq}", user(s.handleMessage)},
		{"PATCH /v1/conversations/{id}/messages/{seq}", user(s.handleEditMessage)},
		{"DELETE /v1/conversations/{id}/messages/{seq}", user(s.handleDeleteMessage)},
		{"PUT /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", user(s.handleReact(true))},
		{"DELETE /v1/conversations/{id}/messages/{seq}/reactions/{emoji}", user(s.handleReact(false))},
		{"GET /v1/conversations/{id}/messages", user(s.handleMessages)},
		{"POST /v1/conversations/{id}/messages", user(s.handleSend)},
		{"POST /v1/conversations/{id}/read", user(s.handleRead)},
		{"POST /v1/conversations/{id}/delivered", user(s.handleDelivered)},
		{"GET /v1/conversations/{id}/notifications", user(s.handleGetNotifications)},
		{"GET /v1/search", user(s.handleSearch)},
		{"GET /v1/sync", user(s.handleSync)},
		{"PUT /v1/conversations/{id}/notifications", user(s.handleSetNotifications)},

		// Push devices.
		{"PUT /v1/devices", user(s.handleRegisterDevice)},
		{"GET /v1/devices", user(s.handleListDevices)},
		{"DELETE /v1/devices/{id}", user(s.handleDeleteDevice)},

		// Real time.
		{wsPattern, http.HandlerFunc(s.handleWebSocket)},

		// Uploads and attachments.
		{"POST /v1/uploads", user(s.handleCreateUpload)},
		{"POST /v1/uploads/{id}/complete", user(s.handleCompleteUpload)},
		{"GET /v1/uploads/{id}", user(s.handleUploadStatus)},
		{"POST /v1/uploads/{id}/parts", user(s.handlePartURLs)},
		{"GET /v1/attachments/{id}", user(s.handleAttachment)},
		{"GET /v1/attachments/{id}/{variant}", user(s.handleDownload)},
		{"POST /v1/attachments/{id}/forward", user(s.handleForward)},

		// Safety: blocks, settings, reports (safety.go).
		{"GET /v1/me/blocks", user(s.handleListBlocks)},
		{"PUT /v1/me/blocks/{user_id}", user(s.handleBlock)},
		{"DELETE /v1/me/blocks/{user_id}", user(s.handleUnblock)},
		{"GET /v1/me/safety", user(s.handleGetSafetySettings)},
		{"PATCH /v1/me/safety", user(s.handleSetSafetySettings)},
		{"POST /v1/reports", user(s.handleReport)},
		{"GET /v1/admin/reports", admin(s.handleAdminReports)},
		{"POST /v1/admin/reports/{id}/resolve", admin(s.handleResolveReport)},
		{"GET /v1/admin/users", admin(s.handleAdminUsers)},
		{"POST /v1/admin/users/{id}/disable", admin(s.handleDisableUser)},
		{"POST /v1/admin/users/{id}/enable", admin(s.handleEnableUser)},

		// Admin.
		{"GET /v1/admin/jobs", admin(s.handleListJobs)},
		{"POST /v1/admin/jobs/{queue}/{task_id}/requeue", admin(s.handleRequeueJob)},
		{"POST /v1/admin/jobs/requeue", admin(s.handleRequeueAll)},
		{"DELETE /v1/admin/users/{id}", admin(s.handleAdminDeleteUser)},
		{"GET /v1/admin/users/{id}/deletion", admin(s.handleAdminUserDeletion)},
		{"/admin/queues/", s.adminUI()},

		// Operations.
		{"GET /healthz", http.HandlerFunc(s.handleHealthz)},
		{"GET /readyz", http.HandlerFunc(s.handleReadyz)},
		{"GET /metrics", s.metricsHandler()},
		{"GET /openapi.json", http.HandlerFunc(s.handleOpenAPI)},
	}
}

// wsPattern is the WebSocket route: the only one without a body deadline
// (it has no body; the socket sets its own deadlines once upgraded).
const wsPattern = "GET /v1/ws"

// bodyDeadline bounds the time to read r's body to BodyReadTimeout and
// lifts the bound once the body has been read to its end, so a handler that
// takes a while to answer is not cut off by the connection's background
// read. Requests without a body get no deadline.
func (s *Server) bodyDeadline(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(s.cfg.BodyReadTimeout)); err != nil {
			// Not a real connection (a test recorder): nothing to bound.
			h.ServeHTTP(w, r)
			return
		}
		r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody clears the connection's read deadline at the end of the body.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// buildMux registers the route table, the configured mounts and a JSON
// fallback for unknown paths and methods.
func (s *Server) buildMux() (mux *http.ServeMux, err error) {
	mux = http.NewServeMux()
	defer func() {
		// ServeMux panics on conflicting patterns; a bad mount is a config error.
		if p := recover(); p != nil {
			mux, err = nil, fmt.Errorf("httpapi: register routes: %v", p)
		}
	}()
	for _, rt := range s.routes {
		h := rt.handler
		if rt.pattern != wsPattern {
			h = s.bodyDeadline(h)
		}
		mux.Handle(rt.pattern, h)
	}
	for pattern, h := range s.cfg.Mounts {
		mux.Handle(pattern, s.bodyDeadline(h))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.handleNoRoute(mux, w, r)
	})
	return mux, nil
}

// handleNoRoute answers 405 with Allow when the path exists for other
// methods, else 404, both as JSON errors.
func (s *Server) handleNoRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Code: chatcore.EInvalid, Message: fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)})
		return
	}
	writeCodeError(w, chatcore.ENotFound, "no such route: "+r.URL.Path)
}

// readyTimeout bounds the /readyz checks so a probe never hangs.
const readyTimeout = 3 * time.Second

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.isClosing() {
		writeCodeError(w, CodeUnavailable, "shutting down")
		return
	}
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "error", err)
			writeCodeError(w, CodeUnavailable, "not ready")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
