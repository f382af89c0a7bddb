package local

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/upload"
)

// Query parameters of a presigned part upload, named as S3 names them.
const (
	FieldPartNumber = "partNumber"
	FieldUploadID   = "uploadId"
)

const (
	opPart = "part"
	// keyFile in an upload's parts directory holds the key it uploads to
	// and its content type, one per line.
	keyFile = "key"
	// maxParts bounds a multipart upload, as S3 does.
	maxParts = 10000
)

// Move renames src to dst (object and content type).
func (s *Store) Move(ctx context.Context, src, dst string) error {
	if err := errors.Join(checkKey(src), checkKey(dst)); err != nil {
		return fmt.Errorf("move object: %w", err)
	}
	obj, meta := s.objectPath(dst), s.metaPath(dst)
	for _, d := range []string{filepath.Dir(obj), filepath.Dir(meta)} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("move object %s: %w", src, err)
		}
	}
	ct := s.contentType(src)
	if err := os.Rename(s.objectPath(src), obj); err != nil {
		return fmt.Errorf("move object %s: %w", src, mapErr(err))
	}
	if err := os.WriteFile(meta, []byte(ct), 0o640); err != nil {
		return fmt.Errorf("move object %s: %w", src, err)
	}
	_ = os.Remove(s.metaPath(src))
	return nil
}

// validUploadID accepts only the ids NewMultipart makes (32 hex digits).
func validUploadID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func (s *Store) uploadDir(id string) string { return filepath.Join(s.parts, id) }

// NewMultipart makes a directory for the parts of an upload to key.
func (s *Store) NewMultipart(ctx context.Context, key, contentType string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("new multipart upload: %w", err)
	}
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("new multipart upload %s: %w", key, err)
	}
	id := hex.EncodeToString(r[:])
	if err := os.MkdirAll(s.parts, 0o750); err != nil {
		return "", fmt.Errorf("new multipart upload %s: %w", key, err)
	}
	dir := s.uploadDir(id)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return "", fmt.Errorf("new multipart upload %s: %w", key, err)
	}
	if err := os.WriteFile(filepath.Join(dir, keyFile), []byte(key+"\n"+contentType), 0o640); err != nil {
		return "", fmt.Errorf("new multipart upload %s: %w", key, err)
	}
	return id, nil
}

// uploadKey returns the key and content type the upload was started for;
// ErrNoUpload if there is no such upload.
func (s *Store) uploadKey(id string) (string, string, error) {
	if !validUploadID(id) {
		return "", "", upload.ErrNoUpload
	}
	b, err := os.ReadFile(filepath.Join(s.uploadDir(id), keyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", upload.ErrNoUpload
	}
	if err != nil {
		return "", "", err
	}
	key, ct, _ := strings.Cut(string(b), "\n")
	return key, ct, nil
}

// PresignPart returns a signed PUT for one part, served by Handler.
func (s *Store) PresignPart(ctx context.Context, key, uploadID string, number int, size int64, expires time.Duration) (*upload.Presigned, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("presign part: %w", err)
	}
	if number < 1 || number > maxParts || size <= 0 || !validUploadID(uploadID) || expires < time.Second {
		return nil, fmt.Errorf("presign part %d of %s: a part number in 1..%d, a size, an upload id and an expiry of at least 1s are required", number, key, maxParts)
	}
	exp := s.now().Add(expires).Unix()
	expS, sizeS, numS := strconv.FormatInt(exp, 10), strconv.FormatInt(size, 10), strconv.Itoa(number)
	sig := s.sign(opPart, key, uploadID, numS, expS, sizeS)
	q := url.Values{}
	q.Set(FieldPartNumber, numS)
	q.Set(FieldUploadID, uploadID)
	q.Set(FieldExpires, expS)
	q.Set(FieldSize, sizeS)
	q.Set(FieldSignature, base64.RawURLEncoding.EncodeToString(sig))
	return &upload.Presigned{
		Method:    http.MethodPut,
		URL:       s.objectURL(key) + "?" + q.Encode(),
		Headers:   map[string]string{"Content-Length": sizeS},
		ExpiresAt: time.Unix(exp, 0).UTC(),
	}, nil
}

// partName is a stored part's file name: its number and ETag.
func partName(number int, etag string) string { return fmt.Sprintf("%05d-%s", number, etag) }

func parsePartName(name string) (int, string, bool) {
	num, etag, ok := strings.Cut(name, "-")
	if !ok || len(etag) != 32 {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	return n, etag, err == nil && n >= 1
}

// servePart stores one part of a multipart upload (PUT with uploadId).
func (s *Store) servePart(w http.ResponseWriter, r *http.Request, key string) {
	q := r.URL.Query()
	id, numS, expS, sizeS := q.Get(FieldUploadID), q.Get(FieldPartNumber), q.Get(FieldExpires), q.Get(FieldSize)
	size, err := strconv.ParseInt(sizeS, 10, 64)
	number, nerr := strconv.Atoi(numS)
	if err != nil || nerr != nil || size <= 0 || number < 1 || number > maxParts || !validUploadID(id) {
		http.Error(w, "missing or malformed signed parameters", http.StatusForbidden)
		return
	}
	if !s.verify(q.Get(FieldSignature), opPart, key, id, numS, expS, sizeS) {
		http.Error(w, "signature does not match", http.StatusForbidden)
		return
	}
	if expired(s, expS) {
		http.Error(w, "request has expired", http.StatusForbidden)
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != size {
		if r.ContentLength > size {
			http.Error(w, "body is larger than the signed size", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(w, "body is smaller than the signed size", http.StatusBadRequest)
		}
		return
	}
	if k, _, err := s.uploadKey(id); err != nil || k != key {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadReadTimeout))
	tmp, err := os.CreateTemp(s.tmp, "part-*")
	if err != nil {
		http.Error(w, "could not store the part", http.StatusInternalServerError)
		return
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(clientReader{r.Body}, size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		http.Error(w, "could not read the body", http.StatusBadRequest)
		return
	case n > size:
		http.Error(w, "body is larger than the signed size", http.StatusRequestEntityTooLarge)
		return
	case n < size:
		http.Error(w, "body is smaller than the signed size", http.StatusBadRequest)
		return
	}
	sum := h.Sum(nil)
	if want := r.Header.Get("Content-MD5"); want != "" && want != base64.StdEncoding.EncodeToString(sum) {
		// As S3 (BadDigest): the part did not arrive as the client sent it.
		http.Error(w, "Content-MD5 does not match the body", http.StatusBadRequest)
		return
	}
	etag := hex.EncodeToString(sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := s.uploadDir(id)
	old, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("%05d-*", number)))
	// Renaming into a directory that complete or abort removed fails: the
	// part arrived too late and is dropped.
	if err := os.Rename(tmp.Name(), filepath.Join(dir, partName(number, etag))); err != nil {
		http.Error(w, "no such upload", http.StatusNotFound)
		return
	}
	for _, o := range old {
		if filepath.Base(o) != partName(number, etag) {
			_ = os.Remove(o)
		}
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	w.Header().Set("Access-Control-Expose-Headers", "ETag")
	w.WriteHeader(http.StatusOK)
}

// ListParts reads the upload's directory.
func (s *Store) ListParts(ctx context.Context, key, uploadID string) ([]upload.Part, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listParts(key, uploadID)
}

func (s *Store) listParts(key, uploadID string) ([]upload.Part, error) {
	k, _, err := s.uploadKey(uploadID)
	if err == nil && k != key {
		err = upload.ErrNoUpload
	}
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", key, err)
	}
	entries, err := os.ReadDir(s.uploadDir(uploadID))
	if err != nil {
		return nil, fmt.Errorf("list parts of %s: %w", key, err)
	}
	parts := []upload.Part{}
	for _, e := range entries {
		n, etag, ok := parsePartName(e.Name())
		if !ok {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // replaced meanwhile
		}
		parts = append(parts, upload.Part{Number: n, Size: fi.Size(), ETag: etag})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Number < parts[j].Number })
	return parts, nil
}

// CompleteMultipart concatenates the parts into the object and removes
// the upload.
func (s *Store) CompleteMultipart(ctx context.Context, key, uploadID string, parts []upload.Part) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ct, err := s.uploadKey(uploadID)
	if err != nil {
		return fmt.Errorf("complete multipart upload %s: %w", key, err)
	}
	dir := s.uploadDir(uploadID)
	files := make([]string, len(parts))
	for i, p := range parts {
		if i > 0 && p.Number <= parts[i-1].Number {
			return fmt.Errorf("complete multipart upload %s: parts out of order: %w", key, upload.ErrPartChanged)
		}
		files[i] = filepath.Join(dir, partName(p.Number, strings.Trim(p.ETag, `"`)))
	}
	pr, pw := io.Pipe()
	go func() {
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				pw.CloseWithError(fmt.Errorf("part %s: %w", filepath.Base(f), upload.ErrPartChanged))
				return
			}
			_, err = io.Copy(pw, fh)
			fh.Close()
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.Close()
	}()
	err = s.write(ctx, key, pr, ct)
	pr.Close()
	if err != nil {
		return fmt.Errorf("complete multipart upload %s: %w", key, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("complete multipart upload %s: %w", key, err)
	}
	return nil
}

// AbortMultipart removes the upload's directory.
func (s *Store) AbortMultipart(ctx context.Context, key, uploadID string) error {
	if !validUploadID(uploadID) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.RemoveAll(s.uploadDir(uploadID)); err != nil {
		return fmt.Errorf("abort multipart upload %s: %w", key, err)
	}
	return nil
}
