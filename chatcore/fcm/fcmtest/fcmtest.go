// Package fcmtest is a local stand-in for Google's OAuth2 token endpoint and
// FCM's HTTP v1 API, for tests. It checks what Google checks that a sender
// can get wrong: the JWT-bearer grant signed with the service account's key
// (RS256, iss, scope, aud, iat/exp), the access token on every send, the
// path naming the project, and the message's shape (token, string data
// values, Android priority). It answers scripted errors per device token in
// FCM's error format.
//
//	srv := fcmtest.NewServer(t, "my-project")
//	key := srv.ServiceAccountJSON()          // token_uri points at srv
//	srv.Respond("tok", fcmtest.Unregistered) // 404 UNREGISTERED
package fcmtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Scope is the OAuth2 scope FCM requires.
const Scope = "https://www.googleapis.com/auth/firebase.messaging"

// Answer is a scripted error for one device token.
type Answer struct {
	Status     int    // HTTP status
	GRPC       string // error.status, e.g. "NOT_FOUND"
	ErrorCode  string // FcmError errorCode, e.g. "UNREGISTERED"
	RetryAfter string // Retry-After header
	Times      int    // how many requests get it; 0 means forever
}

// Scripted answers as FCM sends them.
var (
	Unregistered = Answer{Status: 404, GRPC: "NOT_FOUND", ErrorCode: "UNREGISTERED"}
	QuotaOnce    = Answer{Status: 429, GRPC: "RESOURCE_EXHAUSTED", ErrorCode: "QUOTA_EXCEEDED", RetryAfter: "1", Times: 1}
	Unavailable  = Answer{Status: 503, GRPC: "UNAVAILABLE", ErrorCode: "UNAVAILABLE"}
)

// Send is one messages:send request.
type Send struct {
	Token   string         // message.token
	Message map[string]any // the decoded message
	Status  int
}

// Server is the fake token endpoint (POST /token) and FCM (POST
// /v1/projects/{id}/messages:send) on one plain-HTTP listener.
type Server struct {
	*httptest.Server
	ProjectID string
	Email     string
	key       *rsa.PrivateKey
	keyID     string

	mu           sync.Mutex
	issued       map[string]bool
	tokenGrants  int
	sends        []Send
	answers      map[string]*Answer
	tokenExpires int
}

// NewServer starts a server for one project; it is closed when the test ends.
func NewServer(tb testing.TB, projectID string) *Server {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatalf("generate key: %v", err)
	}
	s := &Server{
		ProjectID: projectID, Email: "parley@" + projectID + ".iam.gserviceaccount.com",
		key: key, keyID: "k" + randHex(8), issued: map[string]bool{}, answers: map[string]*Answer{},
		tokenExpires: 3599,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /v1/projects/{project}/{op}", s.send)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// ServiceAccountJSON is a key file for this server's project whose
// token_uri is the server's token endpoint.
func (s *Server) ServiceAccountJSON() []byte {
	der, _ := x509.MarshalPKCS8PrivateKey(s.key)
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": s.ProjectID, "private_key_id": s.keyID,
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": s.Email, "client_id": "1", "token_uri": s.URL + "/token",
	})
	return b
}

// Respond scripts the answer for one device token.
func (s *Server) Respond(token string, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[token] = &a
}

// TokenGrants is how many access tokens the server has issued.
func (s *Server) TokenGrants() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenGrants
}

// Sends returns the messages:send requests seen so far.
func (s *Server) Sends() []Send {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Send(nil), s.sends...)
}

// RevokeTokens makes every access token issued so far invalid (401).
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.issued = map[string]bool{}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", err.Error())
		return
	}
	if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, "unsupported_grant_type", "grant_type")
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.keyID {
			return nil, fmt.Errorf("kid %q", kid)
		}
		return &s.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(s.Email), jwt.WithAudience(s.URL+"/token"),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired())
	if err != nil {
		oauthError(w, "invalid_grant", err.Error())
		return
	}
	scope, _ := claims["scope"].(string)
	if !strings.Contains(" "+scope+" ", " "+Scope+" ") {
		oauthError(w, "invalid_scope", scope)
		return
	}
	tok := "ya29." + randHex(16)
	s.mu.Lock()
	s.issued[tok] = true
	s.tokenGrants++
	exp := s.tokenExpires
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": exp, "token_type": "Bearer"})
}

func oauthError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("project") != s.ProjectID || r.PathValue("op") != "messages:send" {
		fcmError(w, Answer{Status: 404, GRPC: "NOT_FOUND"}, "unknown project or method")
		return
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	ok := s.issued[bearer]
	s.mu.Unlock()
	if !ok {
		fcmError(w, Answer{Status: 401, GRPC: "UNAUTHENTICATED", ErrorCode: "THIRD_PARTY_AUTH_ERROR"}, "invalid access token")
		return
	}
	var body struct {
		Message map[string]any `json:"message"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil || body.Message == nil {
		fcmError(w, Answer{Status: 400, GRPC: "INVALID_ARGUMENT", ErrorCode: "INVALID_ARGUMENT"}, "bad JSON")
		return
	}
	token, _ := body.Message["token"].(string)
	rec := Send{Token: token, Message: body.Message, Status: 200}
	a, msg := s.validate(body.Message)
	s.mu.Lock()
	if a == nil {
		if sa := s.answers[token]; sa != nil {
			copy := *sa
			a, msg = &copy, "scripted"
			if sa.Times > 0 {
				if sa.Times--; sa.Times == 0 {
					delete(s.answers, token)
				}
			}
		}
	}
	if a != nil {
		rec.Status = a.Status
	}
	s.sends = append(s.sends, rec)
	s.mu.Unlock()
	if a != nil {
		fcmError(w, *a, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"name": "projects/" + s.ProjectID + "/messages/0:" + randHex(8),
	})
}

// validate checks the message as FCM does.
func (s *Server) validate(m map[string]any) (*Answer, string) {
	bad := &Answer{Status: 400, GRPC: "INVALID_ARGUMENT", ErrorCode: "INVALID_ARGUMENT"}
	if t, _ := m["token"].(string); t == "" {
		return bad, "message.token is required"
	}
	if d, ok := m["data"]; ok {
		dm, ok := d.(map[string]any)
		if !ok {
			return bad, "message.data must be a map"
		}
		for k, v := range dm {
			if _, ok := v.(string); !ok {
				return bad, fmt.Sprintf("Invalid value at 'message.data[%s].value' (TYPE_STRING)", k)
			}
			if k == "from" || strings.HasPrefix(k, "google.") || strings.HasPrefix(k, "gcm.") {
				return bad, "reserved data key " + k
			}
		}
	}
	if a, ok := m["android"].(map[string]any); ok {
		switch a["priority"] {
		case nil, "HIGH", "NORMAL":
		default:
			return bad, "android.priority"
		}
	}
	b, _ := json.Marshal(m)
	if len(b) > 4096+512 {
		return bad, "message too big"
	}
	return nil, ""
}

func fcmError(w http.ResponseWriter, a Answer, msg string) {
	w.Header().Set("Content-Type", "application/json")
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	w.WriteHeader(a.Status)
	e := map[string]any{"code": a.Status, "message": msg, "status": a.GRPC}
	if a.ErrorCode != "" {
		e["details"] = []map[string]string{{
			"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": a.ErrorCode,
		}}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
