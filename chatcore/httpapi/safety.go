package httpapi

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Safety routes: blocks and safety settings (/v1/me/…), reports, and the
// admin's reports and accounts. Each answers 503 when the server runs
// without the service.

type blocksReply struct {
	Blocks []chatcore.Block `json:"blocks"`
}

type reportReply struct {
	Report *chatcore.Report `json:"report"`
}

type reportsReply struct {
	Reports []*chatcore.Report `json:"reports"`
}

type adminUserReply struct {
	User *chatcore.AdminUser `json:"user"`
}

type adminUsersReply struct {
	Users []*chatcore.AdminUser `json:"users"`
}

type resolveRequest struct {
	Resolution string `json:"resolution"`
}

func (s *Server) blocks(w http.ResponseWriter) chatcore.BlockService {
	if s.cfg.Blocks == nil {
		writeCodeError(w, CodeUnavailable, "blocks are not enabled on this server")
	}
	return s.cfg.Blocks
}

func (s *Server) reports(w http.ResponseWriter) chatcore.ReportService {
	if s.cfg.Reports == nil {
		writeCodeError(w, CodeUnavailable, "reports are not enabled on this server")
	}
	return s.cfg.Reports
}

func (s *Server) moderation(w http.ResponseWriter) chatcore.ModerationService {
	if s.cfg.Moderation == nil {
		writeCodeError(w, CodeUnavailable, "account moderation is not enabled on this server")
	}
	return s.cfg.Moderation
}

// handleBlock is PUT /v1/me/blocks/{user_id}: 204, idempotent.
func (s *Server) handleBlock(w http.ResponseWriter, r *http.Request) {
	bs := s.blocks(w)
	if bs == nil {
		return
	}
	if err := bs.Block(r.Context(), chatcore.UserFromContext(r.Context()).ID, r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleUnblock is DELETE /v1/me/blocks/{user_id}: 204, idempotent.
func (s *Server) handleUnblock(w http.ResponseWriter, r *http.Request) {
	bs := s.blocks(w)
	if bs == nil {
		return
	}
	if err := bs.Unblock(r.Context(), chatcore.UserFromContext(r.Context()).ID, r.PathValue("user_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleListBlocks(w http.ResponseWriter, r *http.Request) {
	bs := s.blocks(w)
	if bs == nil {
		return
	}
	list, err := bs.Blocks(r.Context(), chatcore.UserFromContext(r.Context()).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, blocksReply{Blocks: list})
}

func (s *Server) handleGetSafetySettings(w http.ResponseWriter, r *http.Request) {
	bs := s.blocks(w)
	if bs == nil {
		return
	}
	st, err := bs.SafetySettings(r.Context(), chatcore.UserFromContext(r.Context()).ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleSetSafetySettings(w http.ResponseWriter, r *http.Request) {
	bs := s.blocks(w)
	if bs == nil {
		return
	}
	var req chatcore.SafetySettings
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	st, err := bs.SetSafetySettings(r.Context(), chatcore.UserFromContext(r.Context()).ID, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// handleReport is POST /v1/reports: 201 with the stored report.
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request) {
	rs := s.reports(w)
	if rs == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	var req chatcore.ReportRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if ok, wait := s.reportLimit.Allow(me.ID, time.Now()); !ok {
		s.writeError(w, r, &chatcore.Error{Code: chatcore.ERateLimited, Message: "too many reports", RetryAfter: wait})
		return
	}
	rep, err := rs.Report(r.Context(), me.ID, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, reportReply{Report: rep})
}

// handleAdminReports is GET /v1/admin/reports?status=open&before=<id>&limit=N.
func (s *Server) handleAdminReports(w http.ResponseWriter, r *http.Request) {
	rs := s.reports(w)
	if rs == nil {
		return
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxReportsPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := rs.Reports(r.Context(), chatcore.UserFromContext(r.Context()).ID,
		chatcore.ReportQuery{Status: q.Get("status"), Before: q.Get("before"), Limit: int(limit)})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reportsReply{Reports: list})
}

// handleResolveReport is POST /v1/admin/reports/{id}/resolve {resolution}.
func (s *Server) handleResolveReport(w http.ResponseWriter, r *http.Request) {
	rs := s.reports(w)
	if rs == nil {
		return
	}
	var req resolveRequest
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	me := chatcore.UserFromContext(r.Context())
	rep, err := rs.Resolve(r.Context(), me.ID, r.PathValue("id"), req.Resolution)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "report resolved", "admin_id", me.ID, "report_id", rep.ID)
	writeJSON(w, http.StatusOK, reportReply{Report: rep})
}

// handleAdminUsers is GET /v1/admin/users?q=<username prefix or id>&limit=N.
func (s *Server) handleAdminUsers(w http.ResponseWriter, r *http.Request) {
	ms := s.moderation(w)
	if ms == nil {
		return
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxAdminUsersPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := ms.AdminUsers(r.Context(), chatcore.UserFromContext(r.Context()).ID, q.Get("q"), int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, adminUsersReply{Users: list})
}

func (s *Server) handleDisableUser(w http.ResponseWriter, r *http.Request) {
	s.setDisabled(w, r, true)
}

func (s *Server) handleEnableUser(w http.ResponseWriter, r *http.Request) {
	s.setDisabled(w, r, false)
}

func (s *Server) setDisabled(w http.ResponseWriter, r *http.Request, disable bool) {
	ms := s.moderation(w)
	if ms == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	id := r.PathValue("id")
	var (
		u   *chatcore.AdminUser
		err error
	)
	if disable {
		u, err = ms.DisableUser(r.Context(), me.ID, id)
	} else {
		u, err = ms.EnableUser(r.Context(), me.ID, id)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "account disabled changed", "admin_id", me.ID, "user_id", id, "disabled", disable)
	writeJSON(w, http.StatusOK, adminUserReply{User: u})
}

// allowGroupCreate applies the per-user group-creation limit to a create
// request naming two or more other users (a group).
func (s *Server) allowGroupCreate(userID string, memberIDs []string) error {
	others := map[string]bool{}
	for _, id := range memberIDs {
		if id != "" && id != userID {
			others[id] = true
		}
	}
	if len(others) < 2 {
		return nil
	}
	if ok, wait := s.groupLimit.Allow(userID, time.Now()); !ok {
		return &chatcore.Error{Code: chatcore.ERateLimited, Message: "creating groups too fast", RetryAfter: wait}
	}
	return nil
}
