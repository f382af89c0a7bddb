package httpapi

import (
	"bufio"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Export limits: a few archives per user per hour, across nodes when the
// limiters are Redis ones.
const (
	exportPerHour = 4
	exportBurst   = 2
)

// accounts returns the account service, or answers 503 when the server has none.
func (s *Server) accounts(w http.ResponseWriter) chatcore.AccountService {
	if s.cfg.Accounts == nil {
		writeCodeError(w, CodeUnavailable, "account management is not enabled on this server")
	}
	return s.cfg.Accounts
}

// withClientInfo puts what the client says about itself into the request
// context for the auth service to record with the session: device_name and
// platform from the body when given, else the User-Agent; the client IP.
func (s *Server) withClientInfo(r *http.Request, deviceName, platform string) *http.Request {
	if deviceName == "" {
		deviceName = r.UserAgent()
	}
	if platform == "" {
		platform = platformOf(r.UserAgent())
	}
	return r.WithContext(chatcore.WithClientInfo(r.Context(), chatcore.ClientInfo{
		DeviceName: deviceName, Platform: platform, IP: s.clientIP(r),
	}))
}

// platformOf guesses the platform from a User-Agent: ios, android, web or "".
func platformOf(ua string) string {
	l := strings.ToLower(ua)
	switch {
	case strings.Contains(l, "iphone"), strings.Contains(l, "ipad"), strings.Contains(l, "ios"), strings.Contains(l, "cfnetwork"):
		return "ios"
	case strings.Contains(l, "android"), strings.Contains(l, "okhttp"):
		return "android"
	case strings.Contains(l, "mozilla"):
		return "web"
	}
	return ""
}

// sessionOf returns the session id of the caller's access token.
func (s *Server) sessionOf(r *http.Request) (string, error) {
	return s.cfg.Auth.SessionID(r.Context(), bearerToken(r))
}

type passwordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (s *Server) handleChangePassword(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	var req passwordRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	sid, err := s.sessionOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	me := chatcore.UserFromContext(r.Context())
	if err := as.ChangePassword(r.Context(), me.ID, sid, req.Current, req.New); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type sessionsReply struct {
	Sessions []*chatcore.Session `json:"sessions"`
}

func (s *Server) handleSessions(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	sid, err := s.sessionOf(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ss, err := as.Sessions(r.Context(), chatcore.UserFromContext(r.Context()).ID, sid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionsReply{Sessions: ss})
}

func (s *Server) handleRevokeSession(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	if err := as.RevokeSession(r.Context(), chatcore.UserFromContext(r.Context()).ID, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleUpdateProfile(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	var req chatcore.ProfileUpdate
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := as.UpdateProfile(r.Context(), chatcore.UserFromContext(r.Context()).ID, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userReply{User: u})
}

type deleteAccountRequest struct {
	Password string `json:"password"`
}

type deletionReply struct {
	Deletion *chatcore.AccountDeletion `json:"deletion"`
}

func (s *Server) handleDeleteMe(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	var req deleteAccountRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Password == "" {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "password is required"))
		return
	}
	d, err := as.DeleteSelf(r.Context(), chatcore.UserFromContext(r.Context()).ID, req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, deletionReply{Deletion: d})
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	if ok, wait := s.exportLimit.Allow(me.ID, time.Now()); !ok {
		s.writeError(w, r, &chatcore.Error{Code: chatcore.ERateLimited, Message: "too many exports; try again later", RetryAfter: wait})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="parley-export.json"`)
	w.Header().Set("Cache-Control", "no-store")
	// An export can take longer than the server's write timeout allows a
	// normal reply; lift it for this response.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := as.Export(r.Context(), me.ID, bw); err != nil {
		// The status is sent; a cut-short document is all the client sees.
		s.log.LogAttrs(r.Context(), slog.LevelError, "export failed", slog.String("user_id", me.ID), slog.Any("error", err))
		return
	}
	_ = bw.Flush()
}

// handleAdminDeleteUser deletes any account, through the same job as DELETE /v1/me.
func (s *Server) handleAdminDeleteUser(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	d, err := as.Delete(r.Context(), r.PathValue("id"), chatcore.UserFromContext(r.Context()).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, deletionReply{Deletion: d})
}

// handleAdminUserDeletion shows how far a deletion got.
func (s *Server) handleAdminUserDeletion(w http.ResponseWriter, r *http.Request) {
	as := s.accounts(w)
	if as == nil {
		return
	}
	d, err := as.Deletion(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletionReply{Deletion: d})
}
