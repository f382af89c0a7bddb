package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// messageReply answers the single-message routes.
type messageReply struct {
	Message *chatcore.Message `json:"message"`
}

type editRequest struct {
	Body *string `json:"body"`
}

type titleRequest struct {
	Title *string `json:"title"`
}

// pathSeq reads the {seq} of the path: a positive integer.
func pathSeq(r *http.Request) (int64, error) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return 0, chatcore.Errorf(chatcore.EInvalid, "seq in the path must be a positive integer")
	}
	return seq, nil
}

// allowChange applies the per-user message limit to edits, deletions and
// reactions: each is pushed to every member, like a send.
func (s *Server) allowChange(userID string) error {
	if ok, wait := s.msgLimit.Allow(userID, time.Now()); !ok {
		return &chatcore.Error{Code: chatcore.ERateLimited, Message: "changing messages too fast", RetryAfter: wait}
	}
	return nil
}

// handleMessage serves GET /v1/conversations/{id}/messages/{seq}.
func (s *Server) handleMessage(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	seq, err := pathSeq(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msg, err := s.cfg.Edits.Message(r.Context(), me.ID, r.PathValue("id"), seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageReply{Message: msg})
}

// handleEditMessage serves PATCH /v1/conversations/{id}/messages/{seq} {body}.
func (s *Server) handleEditMessage(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	seq, err := pathSeq(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req editRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Body == nil {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "body is required"))
		return
	}
	if err := s.allowChange(me.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	msg, err := s.cfg.Edits.Edit(r.Context(), me.ID, r.PathValue("id"), seq, *req.Body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageReply{Message: msg})
}

// handleDeleteMessage serves DELETE /v1/conversations/{id}/messages/{seq}:
// 200 with the tombstone.
func (s *Server) handleDeleteMessage(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	seq, err := pathSeq(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.allowChange(me.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	msg, err := s.cfg.Edits.Delete(r.Context(), me.ID, r.PathValue("id"), seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageReply{Message: msg})
}

// handleReact serves PUT (on) and DELETE (off)
// /v1/conversations/{id}/messages/{seq}/reactions/{emoji}: 200 with the
// message and its reactions.
func (s *Server) handleReact(on bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		me := chatcore.UserFromContext(r.Context())
		seq, err := pathSeq(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.allowChange(me.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
		msg, err := s.cfg.Edits.React(r.Context(), me.ID, r.PathValue("id"), seq, r.PathValue("emoji"), on)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, messageReply{Message: msg})
	}
}

// handleSetTitle serves PATCH /v1/conversations/{id} {title}: owners and
// admins rename a group.
func (s *Server) handleSetTitle(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	var req titleRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Title == nil {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "title is required"))
		return
	}
	conv, err := s.cfg.Conversations.SetTitle(r.Context(), me.ID, r.PathValue("id"), *req.Title)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conversationReply{Conversation: conv})
}
