package local

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/upload/internal/exactio"
)

// Bounds on the form fields before the file part of a POST upload.
const (
	maxFields     = 32
	maxFieldBytes = 8 << 10
	// uploadReadTimeout replaces the server's read deadline for an upload,
	// which may be far too short for hundreds of megabytes.
	uploadReadTimeout = time.Hour
)

// Handler serves presigned uploads (POST form or PUT) and downloads (GET,
// HEAD) under PathPrefix. It answers like S3 would: 204 (POST) or 200 (PUT)
// once stored; 403 for a bad or missing signature, an expired URL or a
// content type other than the signed one; 413 for a body over the signed
// size; 400 for a shorter or malformed one; 404 for a missing object. CORS
// is open: the signature is the only credential.
func (s *Store) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Store) serveHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("X-Content-Type-Options", "nosniff")
	key, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok || checkKey(key) != nil {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.serveDownload(w, r, key)
	case http.MethodPost:
		s.servePost(w, r, key)
	case http.MethodPut:
		q := r.URL.Query()
		if q.Has(FieldUploadID) {
			s.servePart(w, r, key)
			return
		}
		p := uploadParams{
			contentType: r.Header.Get("Content-Type"),
			expires:     q.Get(FieldExpires),
			size:        q.Get(FieldSize),
			signature:   q.Get(FieldSignature),
		}
		s.serveUpload(w, r, key, p, r.Body, http.StatusOK)
	case http.MethodOptions:
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "3600")
		w.WriteHeader(http.StatusNoContent)
	default:
		h.Set("Allow", "GET, HEAD, POST, PUT, OPTIONS")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

type uploadParams struct {
	contentType, expires, size, signature string
}

// check verifies the signature, then the expiry, and returns the signed size.
func (s *Store) check(key string, p uploadParams) (int64, int, string) {
	size, err := strconv.ParseInt(p.size, 10, 64)
	if err != nil || size <= 0 || p.signature == "" || p.expires == "" {
		return 0, http.StatusForbidden, "missing or malformed signed parameters"
	}
	if !s.verify(p.signature, opUpload, key, p.expires, p.size, p.contentType) {
		return 0, http.StatusForbidden, "signature does not match (tampered parameters or wrong content type)"
	}
	if expired(s, p.expires) {
		return 0, http.StatusForbidden, "request has expired"
	}
	return size, 0, ""
}

func expired(s *Store, expires string) bool {
	exp, err := strconv.ParseInt(expires, 10, 64)
	return err != nil || s.now().After(time.Unix(exp, 0))
}

// servePost reads the form fields up to the "file" part, then streams it.
func (s *Store) servePost(w http.ResponseWriter, r *http.Request, key string) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		http.Error(w, "want a multipart/form-data body", http.StatusBadRequest)
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields := make(map[string]string)
	var file *multipart.Part
	for file == nil {
		part, err := mr.NextPart()
		if err != nil {
			http.Error(w, "form has no file part", http.StatusBadRequest)
			return
		}
		name := part.FormName()
		if name == "file" {
			file = part
			break
		}
		if len(fields) >= maxFields {
			http.Error(w, "too many form fields", http.StatusBadRequest)
			return
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFieldBytes+1))
		if err != nil || len(v) > maxFieldBytes {
			http.Error(w, "form field too large", http.StatusBadRequest)
			return
		}
		// Field names are case-insensitive, as S3 treats them.
		fields[strings.ToLower(name)] = string(v)
	}
	p := uploadParams{
		contentType: fields[strings.ToLower(FieldContentType)],
		expires:     fields[FieldExpires],
		size:        fields[FieldSize],
		signature:   fields[FieldSignature],
	}
	s.serveUpload(w, r, key, p, file, http.StatusNoContent)
}

// errClient marks a failure to read the request body.
var errClient = errors.New("local: reading request body")

type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = errors.Join(errClient, err)
	}
	return n, err
}

func (s *Store) serveUpload(w http.ResponseWriter, r *http.Request, key string, p uploadParams, body io.Reader, okStatus int) {
	size, status, msg := s.check(key, p)
	if status != 0 {
		http.Error(w, msg, status)
		return
	}
	if r.Method == http.MethodPut && r.ContentLength >= 0 && r.ContentLength != size {
		if r.ContentLength > size {
			http.Error(w, "body is larger than the signed size", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "body is smaller than the signed size", http.StatusBadRequest)
		}
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadReadTimeout))
	// At most size+1 bytes are read: the body is never buffered whole and
	// one byte over is enough to refuse it.
	err := s.write(r.Context(), key, exactio.New(clientReader{body}, size), p.contentType)
	switch {
	case err == nil:
		w.WriteHeader(okStatus)
	case errors.Is(err, exactio.ErrTooLong):
		http.Error(w, "body is larger than the signed size", http.StatusRequestEntityTooLarge)
	case errors.Is(err, io.ErrUnexpectedEOF):
		http.Error(w, "body is smaller than the signed size", http.StatusBadRequest)
	case errors.Is(err, errClient), r.Context().Err() != nil:
		http.Error(w, "could not read the body", http.StatusBadRequest)
	default:
		http.Error(w, "could not store the object", http.StatusInternalServerError)
	}
}

func (s *Store) serveDownload(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	exp, disp := q.Get(FieldExpires), q.Get(FieldDisposition)
	if !s.verify(q.Get(FieldSignature), opDownload, key, exp, disp) {
		http.Error(w, "signature does not match", http.StatusForbidden)
		return
	}
	if expired(s, exp) {
		http.Error(w, "request has expired", http.StatusForbidden)
		return
	}
	f, err := os.Open(s.objectPath(key))
	if err != nil {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.Error(w, "no such object", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", s.contentType(key))
	h.Set("Content-Disposition", disp)
	// Served from Parley's own origin: never let an uploaded page run.
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "private, max-age=300")
	http.ServeContent(w, r, "", fi.ModTime(), f)
}
