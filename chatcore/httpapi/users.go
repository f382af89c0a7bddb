package httpapi

import (
	"net/http"
	"strconv"

	"github.com/parley-chat/parley/chatcore"
)

type userReply struct {
	User *chatcore.User `json:"user"`
}

type usersReply struct {
	Users []*chatcore.User `json:"users"`
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, userReply{User: chatcore.UserFromContext(r.Context())})
}

func (s *Server) handleUser(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	u, err := s.cfg.Users.User(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, userReply{User: u})
}

// handleFindUsers finds users by username prefix: ?username=al&limit=20.
func (s *Server) handleFindUsers(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	q := r.URL.Query()
	prefix := q.Get("username")
	if prefix == "" {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "query parameter username is required"))
		return
	}
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxUsersPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	users, err := s.cfg.Users.FindUsers(r.Context(), me.ID, prefix, int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if users == nil {
		users = []*chatcore.User{}
	}
	writeJSON(w, http.StatusOK, usersReply{Users: users})
}

func (s *Server) handlePresence(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	p, err := s.cfg.Presence.Presence(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// queryInt parses an optional integer query parameter: def when empty,
// EInvalid when not an integer in [min, max]. Page limits pass def 0 and
// the domain's max: the services apply the default (chatcore/page.go).
func queryInt(v, name string, def, min, max int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, chatcore.Errorf(chatcore.EInvalid, "query parameter %s must be an integer from %d to %d", name, min, max)
	}
	return n, nil
}
