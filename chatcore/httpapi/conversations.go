package httpapi

import (
	"net/http"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

type conversationReply struct {
	Conversation *chatcore.Conversation `json:"conversation"`
}

type conversationsReply struct {
	Conversations []*chatcore.Conversation `json:"conversations"`
}

type createConversationRequest struct {
	MemberIDs []string `json:"member_ids"`
	Title     string   `json:"title"`
}

// handleCreateConversation answers 201 for a new conversation and 200 for
// the existing direct conversation with the same member.
func (s *Server) handleCreateConversation(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	var req createConversationRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.MemberIDs) == 0 {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "member_ids must name at least one other user"))
		return
	}
	if err := s.allowGroupCreate(me.ID, req.MemberIDs); err != nil {
		s.writeError(w, r, err)
		return
	}
	conv, created, err := s.cfg.Conversations.CreateConversation(r.Context(), me.ID, req.MemberIDs, req.Title)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, conversationReply{Conversation: conv})
}

// handleListConversations pages the caller's conversations by activity:
// ?limit=N&before=<last_activity_at of the last one seen, RFC 3339>.
func (s *Server) handleListConversations(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxConversationsPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var before time.Time
	if v := q.Get("before"); v != "" {
		before, err = time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "query parameter before must be an RFC 3339 time"))
			return
		}
	}
	convs, err := s.cfg.Conversations.Conversations(r.Context(), me.ID, before, int(limit))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if convs == nil {
		convs = []*chatcore.Conversation{}
	}
	writeJSON(w, http.StatusOK, conversationsReply{Conversations: convs})
}

func (s *Server) handleConversation(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	conv, err := s.cfg.Conversations.Conversation(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conversationReply{Conversation: conv})
}

type membersRequest struct {
	UserIDs []string `json:"user_ids"`
}

func (s *Server) handleAddMembers(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	var req membersRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(req.UserIDs) == 0 {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "user_ids must name at least one user"))
		return
	}
	conv, err := s.cfg.Conversations.AddMembers(r.Context(), me.ID, r.PathValue("id"), req.UserIDs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conversationReply{Conversation: conv})
}

// handleRemoveMember serves both DELETE /members/{user_id} and DELETE
// /members, whose optional body {user_id} defaults to the caller (leave).
func (s *Server) handleRemoveMember(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	userID := r.PathValue("user_id")
	if userID == "" {
		if r.ContentLength != 0 {
			var req struct {
				UserID string `json:"user_id"`
			}
			if err := s.decodeJSON(w, r, &req); err != nil {
				s.writeError(w, r, err)
				return
			}
			userID = req.UserID
		}
		if userID == "" {
			userID = me.ID
		}
	}
	if err := s.cfg.Conversations.RemoveMember(r.Context(), me.ID, r.PathValue("id"), userID); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type roleRequest struct {
	Role chatcore.MemberRole `json:"role"`
}

// handleSetMemberRole serves PATCH /members/{user_id} {role}: the owner
// makes a member an admin or a plain member.
func (s *Server) handleSetMemberRole(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	var req roleRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	conv, err := s.cfg.Conversations.SetMemberRole(r.Context(), me.ID, r.PathValue("id"), r.PathValue("user_id"), req.Role)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, conversationReply{Conversation: conv})
}
