package local

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/upload"
)

// Names of the signed parameters: form fields of a POST upload, query
// parameters of a PUT upload or a download.
const (
	FieldContentType = "Content-Type"
	FieldExpires     = "x-parley-expires"   // unix seconds
	FieldSize        = "x-parley-size"      // exact byte count
	FieldSignature   = "x-parley-signature" // base64url HMAC-SHA256
	FieldDisposition = "response-content-disposition"
)

// Operations a signature is bound to.
const (
	opUpload   = "upload"
	opDownload = "download"
)

// sign returns the MAC of the operation and its parameters. Each part is
// length-prefixed so that no two parameter lists share a message.
func (s *Store) sign(parts ...string) []byte {
	m := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		fmt.Fprintf(m, "%d:%s\n", len(p), p)
	}
	return m.Sum(nil)
}

// verify checks sig (base64url) against the MAC of parts in constant time.
func (s *Store) verify(sig string, parts ...string) bool {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	return hmac.Equal(got, s.sign(parts...))
}

func (s *Store) objectURL(key string) string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	return s.baseURL + PathPrefix + strings.Join(segs, "/")
}

// PresignUpload returns a POST form for exactly c.Size bytes of
// c.ContentType under key. The same parameters work for a PUT as query
// parameters (with the Content-Type header).
func (s *Store) PresignUpload(ctx context.Context, key string, c upload.UploadConstraints) (*upload.Presigned, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("presign upload: %w", err)
	}
	if c.Size <= 0 || c.ContentType == "" || c.Expires < time.Second {
		return nil, fmt.Errorf("presign upload %s: size, content type and an expiry of at least 1s are required", key)
	}
	exp := s.now().Add(c.Expires).Unix()
	expS, sizeS := strconv.FormatInt(exp, 10), strconv.FormatInt(c.Size, 10)
	sig := s.sign(opUpload, key, expS, sizeS, c.ContentType)
	return &upload.Presigned{
		Method: http.MethodPost,
		URL:    s.objectURL(key),
		Fields: map[string]string{
			FieldContentType: c.ContentType,
			FieldExpires:     expS,
			FieldSize:        sizeS,
			FieldSignature:   base64.RawURLEncoding.EncodeToString(sig),
		},
		ExpiresAt: time.Unix(exp, 0).UTC(),
	}, nil
}

// PresignDownload returns a signed GET URL served by Handler.
func (s *Store) PresignDownload(ctx context.Context, key string, expires time.Duration, downloadName string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("presign download: %w", err)
	}
	if expires < time.Second {
		return "", fmt.Errorf("presign download %s: expiry must be at least 1s", key)
	}
	if downloadName == "" {
		downloadName = key[strings.LastIndexByte(key, '/')+1:]
	}
	disp := upload.ContentDisposition(downloadName)
	expS := strconv.FormatInt(s.now().Add(expires).Unix(), 10)
	q := url.Values{}
	q.Set(FieldExpires, expS)
	q.Set(FieldDisposition, disp)
	q.Set(FieldSignature, base64.RawURLEncoding.EncodeToString(s.sign(opDownload, key, expS, disp)))
	return s.objectURL(key) + "?" + q.Encode(), nil
}
