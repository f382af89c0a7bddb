package httpapi

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

type searchReply struct {
	Results []*chatcore.SearchHit `json:"results"`
}

// handleSearch finds messages by words of their bodies:
// ?q=words&conversation_id=&limit=&before=<created_at of the last result, RFC 3339>.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	q := r.URL.Query()
	text := q.Get("q")
	if text == "" {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "query parameter q is required"))
		return
	}
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxSearchPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var before time.Time
	if v := q.Get("before"); v != "" {
		if before, err = time.Parse(time.RFC3339Nano, v); err != nil {
			s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "query parameter before must be an RFC 3339 time"))
			return
		}
	}
	hits, err := s.cfg.Search.Search(r.Context(), me.ID, chatcore.SearchRequest{
		Query: text, ConversationID: q.Get("conversation_id"), Before: before, Limit: int(limit),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if hits == nil {
		hits = []*chatcore.SearchHit{}
	}
	writeJSON(w, http.StatusOK, searchReply{Results: hits})
}
