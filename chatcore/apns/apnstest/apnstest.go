// Package apnstest is a local stand-in for Apple's push servers, for tests:
// it speaks the APNs provider API as Apple documents it (HTTP/2 over TLS,
// POST /3/device/{token}, token authentication with an ES256 JWT) and
// records what it accepted. Apple's servers cannot be reached from tests;
// this server checks everything they check that a sender can get wrong.
//
//	key, p8 := apnstest.NewKey(t)
//	srv := apnstest.NewServer(t, &key.PublicKey, "KEYID12345", "TEAMID1234")
//	srv.Respond("deadbeef", 410, "Unregistered")
//	// point the sender at srv.URL with srv.Client()
package apnstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Request is one push the server accepted for processing (whatever it
// answered), as the sender put it on the wire.
type Request struct {
	Token      string
	Topic      string // apns-topic
	PushType   string // apns-push-type
	Priority   string // apns-priority
	CollapseID string // apns-collapse-id
	KeyID      string // the JWT's kid
	TeamID     string // the JWT's iss
	IssuedAt   time.Time
	Bearer     string // the JWT as sent
	Body       []byte
	Status     int    // what the server answered
	Reason     string // and why, for an error
}

// Payload decodes the request's JSON body.
func (r Request) Payload() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Answer is a scripted reply for one token.
type Answer struct {
	Status int
	Reason string
	// Times is how many requests get this answer before the token is
	// answered 200 again; 0 means forever.
	Times int
}

// Server is a fake APNs endpoint.
type Server struct {
	*httptest.Server
	pub    *ecdsa.PublicKey
	keyID  string
	teamID string
	now    func() time.Time

	mu       sync.Mutex
	answers  map[string]*Answer
	requests []Request
	delay    time.Duration
}

// NewServer starts a TLS HTTP/2 server that accepts JWTs signed by pub with
// the given kid and iss. It is closed when the test ends.
func NewServer(tb testing.TB, pub *ecdsa.PublicKey, keyID, teamID string) *Server {
	tb.Helper()
	s := &Server{pub: pub, keyID: keyID, teamID: teamID, now: time.Now, answers: map[string]*Answer{}}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.EnableHTTP2 = true
	s.StartTLS()
	tb.Cleanup(s.Close)
	return s
}

// Respond scripts the answer for one device token.
func (s *Server) Respond(token string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[token] = &a
}

// SetDelay makes every answer wait d first (a slow provider).
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Requests returns what the server has seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsFor returns the requests for one device token.
func (s *Server) RequestsFor(token string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Token == token {
			out = append(out, r)
		}
	}
	return out
}

// CertPEM is the server's certificate, for a client in another process
// (SSL_CERT_FILE) to trust.
func (s *Server) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	req, status, reason := s.check(r)
	s.mu.Lock()
	delay := s.delay
	if status == http.StatusOK {
		if a := s.answers[req.Token]; a != nil {
			status, reason = a.Status, a.Reason
			if a.Times > 0 {
				if a.Times--; a.Times == 0 {
					delete(s.answers, req.Token)
				}
			}
		}
	}
	req.Status, req.Reason = status, reason
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	w.Header().Set("apns-id", newUUID())
	if status == http.StatusOK {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"reason": reason}
	if status == http.StatusGone {
		body["timestamp"] = s.now().UnixMilli()
	}
	_ = json.NewEncoder(w).Encode(body)
}

// check validates the request as APNs does and returns 200 or the error
// APNs would answer.
func (s *Server) check(r *http.Request) (Request, int, string) {
	req := Request{
		Topic:      r.Header.Get("apns-topic"),
		PushType:   r.Header.Get("apns-push-type"),
		Priority:   r.Header.Get("apns-priority"),
		CollapseID: r.Header.Get("apns-collapse-id"),
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return req, http.StatusBadRequest, "BadPayload"
	}
	req.Body = body
	if r.ProtoMajor != 2 {
		return req, http.StatusBadRequest, "HTTP/2 required"
	}
	if r.Method != http.MethodPost {
		return req, http.StatusMethodNotAllowed, "MethodNotAllowed"
	}
	tok, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if !ok {
		return req, http.StatusNotFound, "BadPath"
	}
	req.Token = tok
	if tok == "" {
		return req, http.StatusBadRequest, "MissingDeviceToken"
	}
	if _, err := hex.DecodeString(tok); err != nil {
		return req, http.StatusBadRequest, "BadDeviceToken"
	}
	if status, reason := s.checkJWT(r.Header.Get("authorization"), &req); status != http.StatusOK {
		return req, status, reason
	}
	if req.Topic == "" {
		return req, http.StatusBadRequest, "MissingTopic"
	}
	switch req.PushType {
	case "alert", "background":
	default:
		return req, http.StatusBadRequest, "InvalidPushType"
	}
	switch req.Priority {
	case "", "5", "10":
	default:
		return req, http.StatusBadRequest, "BadPriority"
	}
	if req.PushType == "background" && req.Priority != "5" {
		// Apple requires priority 5 for background pushes.
		return req, http.StatusBadRequest, "BadPriority"
	}
	if len(req.CollapseID) > 64 {
		return req, http.StatusBadRequest, "BadCollapseId"
	}
	if len(body) == 0 {
		return req, http.StatusBadRequest, "PayloadEmpty"
	}
	if len(body) > 4096 {
		return req, http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	}
	var p struct {
		Aps map[string]json.RawMessage `json:"aps"`
	}
	if json.Unmarshal(body, &p) != nil || p.Aps == nil {
		return req, http.StatusBadRequest, "BadPayload"
	}
	return req, http.StatusOK, ""
}

func (s *Server) checkJWT(h string, req *Request) (int, string) {
	bearer, ok := strings.CutPrefix(h, "bearer ")
	if !ok || bearer == "" {
		return http.StatusForbidden, "MissingProviderToken"
	}
	req.Bearer = bearer
	claims := jwt.MapClaims{}
	t, err := jwt.ParseWithClaims(bearer, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		req.KeyID = kid
		if kid != s.keyID {
			return nil, errors.New("unknown kid")
		}
		return s.pub, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation())
	if err != nil || !t.Valid {
		return http.StatusForbidden, "InvalidProviderToken"
	}
	req.TeamID, _ = claims["iss"].(string)
	iat, ok := claims["iat"].(float64)
	if !ok || req.TeamID != s.teamID {
		return http.StatusForbidden, "InvalidProviderToken"
	}
	req.IssuedAt = time.Unix(int64(iat), 0)
	if age := s.now().Sub(req.IssuedAt); age > time.Hour || age < -time.Minute {
		return http.StatusForbidden, "ExpiredProviderToken"
	}
	return http.StatusOK, ""
}

// NewKey makes an ES256 key and its .p8 file contents (PKCS#8 PEM), as
// Apple's developer site hands them out.
func NewKey(tb testing.TB) (*ecdsa.PrivateKey, []byte) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("marshal key: %v", err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return strings.ToUpper(fmt.Sprintf("%s-%s-%s-%s-%s", h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
}
