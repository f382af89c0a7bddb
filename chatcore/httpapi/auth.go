package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// adminCookie carries an admin's access token for the /admin/queues pages,
// which a browser loads without an Authorization header.
const adminCookie = "parley_admin_token"

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate checks the access token and returns the user and the
// token's expiry. Errors are EUnauthorized.
func (s *Server) authenticate(ctx context.Context, token string) (*chatcore.User, time.Time, error) {
	if token == "" {
		return nil, time.Time{}, chatcore.Errorf(chatcore.EUnauthorized, "missing access token: send Authorization: Bearer <access_token>")
	}
	u, exp, err := s.cfg.Auth.Authenticate(ctx, token)
	if err == nil {
		noteUser(ctx, u.ID)
	}
	return u, exp, err
}

// requireUser wraps h so it runs only with a valid bearer token, the user in
// its context (chatcore.UserFromContext), and within the per-user rate limit.
func (s *Server) requireUser(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, _, err := s.authenticate(r.Context(), bearerToken(r))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if ok, wait := s.reqLimit.Allow(u.ID, time.Now()); !ok {
			s.writeError(w, r, &chatcore.Error{Code: chatcore.ERateLimited, Message: "too many requests", RetryAfter: wait})
			return
		}
		h(w, r.WithContext(chatcore.WithUser(r.Context(), u)))
	}
}

// requireAdmin is requireUser for role admin: others get 403.
func (s *Server) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	return s.requireUser(func(w http.ResponseWriter, r *http.Request) {
		if chatcore.UserFromContext(r.Context()).Role != chatcore.RoleAdmin {
			writeCodeError(w, chatcore.EForbidden, "admin role required")
			return
		}
		h(w, r)
	})
}

// limitAuth applies the per-IP limit of the /v1/auth routes, which are the
// ones a password guesser hits.
func (s *Server) limitAuth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := s.authLimit.Allow(s.clientIP(r), time.Now()); !ok {
			s.writeError(w, r, &chatcore.Error{Code: chatcore.ERateLimited, Message: "too many authentication attempts", RetryAfter: wait})
			return
		}
		h(w, r)
	}
}

type registerRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	DeviceName  string `json:"device_name"` // shown in GET /v1/me/sessions (account.go)
	Platform    string `json:"platform"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	r = s.withClientInfo(r, req.DeviceName, req.Platform)
	res, err := s.cfg.Auth.Register(r.Context(), req.Username, req.Password, req.DisplayName)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

type loginRequest struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	DeviceName string `json:"device_name"` // shown in GET /v1/me/sessions (account.go)
	Platform   string `json:"platform"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	r = s.withClientInfo(r, req.DeviceName, req.Platform)
	res, err := s.cfg.Auth.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.RefreshToken == "" {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "refresh_token is required"))
		return
	}
	r = r.WithContext(chatcore.WithClientInfo(r.Context(), chatcore.ClientInfo{IP: s.clientIP(r)}))
	res, err := s.cfg.Auth.Refresh(r.Context(), req.RefreshToken)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleLogout revokes the refresh token's family. It needs no access
// token: a client whose access token expired can still log out.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.RefreshToken == "" {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "refresh_token is required"))
		return
	}
	if err := s.cfg.Auth.Logout(r.Context(), req.RefreshToken); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
