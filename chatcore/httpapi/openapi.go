package httpapi

import (
	"net/http"

	"github.com/parley-chat/parley/docs"
)

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(docs.OpenAPI)
}
