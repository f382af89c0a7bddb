package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/chatcore"
)

// handleSync serves the caller's change feed: ?since=<cursor>&limit=.
// Without since: a fresh device's conversation list and a cursor.
func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxSyncPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	since, given := q["since"]
	cursor := ""
	if given {
		if cursor = since[0]; cursor == "" {
			s.writeError(w, r, chatcore.Errorf(chatcore.EGone, "since is empty; leave it out to start as a fresh device"))
			return
		}
	}
	res, err := s.cfg.Sync.Sync(r.Context(), me.ID, cursor, int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}
