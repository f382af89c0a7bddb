package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/chatcore"
)

type jobsReply struct {
	Jobs []chatcore.Job `json:"jobs"`
}

type requeueReply struct {
	Requeued int `json:"requeued"`
}

func (s *Server) jobs(w http.ResponseWriter) chatcore.JobService {
	if s.cfg.Jobs == nil {
		writeCodeError(w, CodeUnavailable, "media jobs are not enabled on this server")
	}
	return s.cfg.Jobs
}

// handleListJobs lists media jobs: ?queue=image&state=archived&limit=100.
func (s *Server) handleListJobs(w http.ResponseWriter, r *http.Request) {
	js := s.jobs(w)
	if js == nil {
		return
	}
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 100, 1, 1000)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	state := q.Get("state")
	if state == "" {
		state = "archived"
	}
	jobs, err := js.ListJobs(r.Context(), q.Get("queue"), state, int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if jobs == nil {
		jobs = []chatcore.Job{}
	}
	writeJSON(w, http.StatusOK, jobsReply{Jobs: jobs})
}

func (s *Server) handleRequeueJob(w http.ResponseWriter, r *http.Request) {
	js := s.jobs(w)
	if js == nil {
		return
	}
	if err := js.RequeueJob(r.Context(), r.PathValue("queue"), r.PathValue("task_id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "job requeued",
		"admin_id", chatcore.UserFromContext(r.Context()).ID,
		"queue", r.PathValue("queue"), "task_id", r.PathValue("task_id"))
	writeJSON(w, http.StatusOK, requeueReply{Requeued: 1})
}

type requeueAllRequest struct {
	Queue string `json:"queue"`
	State string `json:"state"`
}

func (s *Server) handleRequeueAll(w http.ResponseWriter, r *http.Request) {
	js := s.jobs(w)
	if js == nil {
		return
	}
	var req requeueAllRequest
	if r.ContentLength != 0 {
		if err := s.decodeJSON(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if req.State == "" {
		req.State = "archived"
	}
	n, err := js.RequeueAll(r.Context(), req.Queue, req.State)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "jobs requeued",
		"admin_id", chatcore.UserFromContext(r.Context()).ID,
		"queue", req.Queue, "state", req.State, "count", n)
	writeJSON(w, http.StatusOK, requeueReply{Requeued: n})
}

// adminUI guards the queue dashboard (asynqmon), which has no auth of its
// own. A browser cannot set an Authorization header on page loads, so an
// admin may open /admin/queues/?access_token=TOKEN once: the token then
// travels in an HttpOnly, SameSite=Strict cookie scoped to /admin/queues
// that expires with the token. Non-admins get 403, no token 401.
func (s *Server) adminUI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AdminUI == nil {
			writeCodeError(w, chatcore.ENotFound, "the queue dashboard is not enabled on this server")
			return
		}
		token, fromQuery := bearerToken(r), false
		if token == "" {
			if token = r.URL.Query().Get("access_token"); token != "" {
				fromQuery = true
			} else if c, err := r.Cookie(adminCookie); err == nil {
				token = c.Value
			}
		}
		u, exp, err := s.authenticate(r.Context(), token)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if u.Role != chatcore.RoleAdmin {
			writeCodeError(w, chatcore.EForbidden, "admin role required")
			return
		}
		if fromQuery && r.Method == http.MethodGet {
			http.SetCookie(w, &http.Cookie{
				Name:     adminCookie,
				Value:    token,
				Path:     "/admin/queues",
				Expires:  exp,
				MaxAge:   int(exp.Sub(s.cfg.Clock.Now()).Seconds()),
				HttpOnly: true,
				Secure:   r.TLS != nil || s.cfg.SecureCookies,
				SameSite: http.SameSiteStrictMode,
			})
			// Drop the token from the address bar and history.
			q := r.URL.Query()
			q.Del("access_token")
			dest := *r.URL
			dest.RawQuery = q.Encode()
			http.Redirect(w, r, dest.RequestURI(), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		s.cfg.AdminUI.ServeHTTP(w, r)
	})
}
