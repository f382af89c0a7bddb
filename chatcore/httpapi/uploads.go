package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/chatcore"
)

type attachmentReply struct {
	Attachment *chatcore.Attachment `json:"attachment"`
}

// uploads returns the upload service, or answers 503 when there is none.
func (s *Server) uploads(w http.ResponseWriter) chatcore.UploadService {
	if s.cfg.Uploads == nil {
		writeCodeError(w, CodeUnavailable, "uploads are not enabled on this server")
	}
	return s.cfg.Uploads
}

func (s *Server) handleCreateUpload(w http.ResponseWriter, r *http.Request) {
	up := s.uploads(w)
	if up == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	var req chatcore.UploadRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	ticket, err := up.CreateUpload(r.Context(), me.ID, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, ticket)
}

// handleCompleteUpload answers 202: the attachment is verified and
// processing goes on in the background.
func (s *Server) handleCompleteUpload(w http.ResponseWriter, r *http.Request) {
	up := s.uploads(w)
	if up == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	a, err := up.CompleteUpload(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, attachmentReply{Attachment: a})
}

// handleUploadStatus lists what the store holds of a pending upload, so a
// client resumes a multipart upload by sending only the missing parts.
func (s *Server) handleUploadStatus(w http.ResponseWriter, r *http.Request) {
	up := s.uploads(w)
	if up == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	st, err := up.UploadStatus(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// partsRequest is the body of POST /v1/uploads/{id}/parts.
type partsRequest struct {
	Numbers []int `json:"numbers"`
}

// handlePartURLs answers fresh presigned URLs for parts of a multipart
// upload (when the first ones expired).
func (s *Server) handlePartURLs(w http.ResponseWriter, r *http.Request) {
	up := s.uploads(w)
	if up == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	var req partsRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := up.PartURLs(r.Context(), me.ID, r.PathValue("id"), req.Numbers)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) handleAttachment(w http.ResponseWriter, r *http.Request) {
	up := s.uploads(w)
	if up == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	a, err := up.Attachment(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, attachmentReply{Attachment: a})
}

// handleDownload redirects (302) to a short-lived presigned URL of the
// variant. Anyone who may not see the attachment gets 404, as if it did not
// exist.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	up := s.uploads(w)
	if up == nil {
		return
	}
	me := chatcore.UserFromContext(r.Context())
	url, err := up.DownloadURL(r.Context(), me.ID, r.PathValue("id"), r.PathValue("variant"))
	if err != nil {
		if chatcore.ErrorCode(err) == chatcore.EForbidden {
			err = chatcore.Errorf(chatcore.ENotFound, "attachment not found")
		}
		s.writeError(w, r, err)
		return
	}
	// The URL expires within minutes: never let a cache keep the redirect.
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, url, http.StatusFound)
}

// forwardRequest is the body of POST /v1/attachments/{id}/forward.
type forwardRequest struct {
	ConversationID string `json:"conversation_id"`
}

// handleForward answers 201 with a new ready attachment that shares the
// objects of {id}: the client sends it in a message to conversation_id
// without uploading or processing anything again.
func (s *Server) handleForward(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Forward == nil {
		writeCodeError(w, CodeUnavailable, "uploads are not enabled on this server")
		return
	}
	me := chatcore.UserFromContext(r.Context())
	var req forwardRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.cfg.Forward.ForwardAttachment(r.Context(), me.ID, r.PathValue("id"), req.ConversationID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, attachmentReply{Attachment: a})
}
