package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

type messagesReply struct {
	Messages []*chatcore.Message `json:"messages"`
}

// ackReply answers an HTTP send exactly like the WebSocket ack frame, minus type.
type ackReply struct {
	ClientID string            `json:"client_id"`
	Message  *chatcore.Message `json:"message"`
}

type receiptReply struct {
	Receipt chatcore.Receipt `json:"receipt"`
}

// handleMessages pages history: ?before=SEQ (newest first), ?after=SEQ
// (oldest first, to catch up), neither (the newest page), &limit=N ≤ 200.
func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), "limit", 0, 1, chatcore.MaxMessagesPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var mq chatcore.MessageQuery
	mq.Limit = int(limit)
	before, after := q.Get("before"), q.Get("after")
	if before != "" && after != "" {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "use before or after, not both"))
		return
	}
	if before != "" {
		if mq.Before, err = queryInt(before, "before", 0, 1, 1<<62); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if after != "" {
		if mq.After, err = queryInt(after, "after", 0, 0, 1<<62); err != nil {
			s.writeError(w, r, err)
			return
		}
		mq.Forward = true
	}
	msgs, err := s.cfg.Messages.Messages(r.Context(), me.ID, r.PathValue("id"), mq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if msgs == nil {
		msgs = []*chatcore.Message{}
	}
	writeJSON(w, http.StatusOK, messagesReply{Messages: msgs})
}

type sendRequest struct {
	ClientID      string               `json:"client_id"`
	Body          string               `json:"body"`
	ReplyToSeq    int64                `json:"reply_to_seq"`
	AttachmentIDs []string             `json:"attachment_ids"`
	Kind          chatcore.MessageKind `json:"kind"`
	Location      *chatcore.Location   `json:"location"`
}

// handleSend stores a message: 201 when new, 200 with the original when
// client_id was already used (a retry).
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	me := chatcore.UserFromContext(r.Context())
	var req sendRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if ok, wait := s.msgLimit.Allow(me.ID, time.Now()); !ok {
		s.writeError(w, r, &chatcore.Error{Code: chatcore.ERateLimited, Message: "sending too fast", RetryAfter: wait})
		return
	}
	msg, created, err := s.cfg.Messages.Send(r.Context(), me.ID, chatcore.SendRequest{
		ConversationID: r.PathValue("id"),
		ClientID:       req.ClientID,
		Body:           req.Body,
		ReplyToSeq:     req.ReplyToSeq,
		AttachmentIDs:  req.AttachmentIDs,
		Kind:           req.Kind,
		Location:       req.Location,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, ackReply{ClientID: msg.ClientID, Message: msg})
}

type seqRequest struct {
	Seq int64 `json:"seq"`
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	s.handleReceipt(w, r, s.cfg.Receipts.MarkRead)
}

func (s *Server) handleDelivered(w http.ResponseWriter, r *http.Request) {
	s.handleReceipt(w, r, s.cfg.Receipts.MarkDelivered)
}

type markFunc func(ctx context.Context, callerID, convID string, seq int64) (chatcore.Receipt, error)

func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request, mark markFunc) {
	me := chatcore.UserFromContext(r.Context())
	var req seqRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.Seq < 1 {
		s.writeError(w, r, chatcore.Errorf(chatcore.EInvalid, "seq must be a positive integer"))
		return
	}
	rc, err := mark(r.Context(), me.ID, r.PathValue("id"), req.Seq)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, receiptReply{Receipt: rc})
}
