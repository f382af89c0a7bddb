package chatcore

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// nopStore satisfies Store for tests that never reach it; any call panics.
type nopStore struct{ Store }

// DeletedUserIDs: no account of a nopStore is deleted.
func (nopStore) DeletedUserIDs(context.Context, []string) (map[string]bool, error) {
	return map[string]bool{}, nil
}

// nopBus and nopPresence satisfy the interfaces for unit tests.
type nopBus struct{}

func (nopBus) Publish(context.Context, Event) error         { return nil }
func (nopBus) Subscribe(context.Context, func(Event)) error { return nil }

type nopPresence struct{ Presence }

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// newUnitService returns an auth service with no working store, for logic
// that does not touch it.
func newUnitService(t *testing.T, clock Clock) *authService {
	t.Helper()
	s, err := NewServices(ServiceConfig{
		Store: nopStore{}, Bus: nopBus{}, Presence: nopPresence{},
		Clock: clock, JWTSecret: testSecret, AccessTTL: 15 * time.Minute,
	})
	if err != nil {
		t.Fatalf("NewServices: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Auth.(*authService)
}

func TestNewServiceConfig(t *testing.T) {
	base := ServiceConfig{Store: nopStore{}, Bus: nopBus{}, Presence: nopPresence{}, JWTSecret: testSecret}
	tests := []struct {
		name    string
		mutate  func(*ServiceConfig)
		wantErr bool
	}{
		{"ok", func(*ServiceConfig) {}, false},
		{"no store", func(c *ServiceConfig) { c.Store = nil }, true},
		{"no bus", func(c *ServiceConfig) { c.Bus = nil }, true},
		{"no presence", func(c *ServiceConfig) { c.Presence = nil }, true},
		{"short secret", func(c *ServiceConfig) { c.JWTSecret = testSecret[:31] }, true},
		{"negative ttl", func(c *ServiceConfig) { c.TypingTTL = -time.Second }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mutate(&cfg)
			s, err := NewServices(cfg)
			if got := err != nil; got != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if s != nil {
				a := s.Auth.(*authService)
				if a.accessTTL != DefaultAccessTTL || a.refreshTTL != DefaultRefreshTTL || s.deps.typing.ttl != DefaultTypingTTL {
					t.Errorf("got ttls %v/%v/%v, want defaults", a.accessTTL, a.refreshTTL, s.deps.typing.ttl)
				}
				s.Close()
				s.Close() // idempotent
			}
		})
	}
}

func TestAccessToken(t *testing.T) {
	clock := newFakeClock()
	s := newUnitService(t, clock)
	u := &User{ID: "u1", Role: RoleAdmin}
	tok, err := s.signAccessToken(u, "")
	if err != nil {
		t.Fatal(err)
	}

	// The claims a token carries.
	var claims accessClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "u1" || claims.Role != RoleAdmin || claims.Issuer != jwtIssuer ||
		len(claims.Audience) != 1 || claims.Audience[0] != jwtAudience ||
		!claims.IssuedAt.Time.Equal(clock.Now()) || !claims.ExpiresAt.Time.Equal(clock.Now().Add(15*time.Minute)) {
		t.Errorf("got claims %+v", claims)
	}

	other := newUnitService(t, clock)
	other.jwtSecret = []byte("another-secret-another-secret-xx")
	forged, _ := other.signAccessToken(u, "")
	sign := func(method jwt.SigningMethod, key any, mutate func(*accessClaims)) string {
		c := accessClaims{Role: RoleUser, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: jwtIssuer, Audience: jwt.ClaimStrings{jwtAudience}, Subject: "u1",
			IssuedAt: jwt.NewNumericDate(clock.Now()), ExpiresAt: jwt.NewNumericDate(clock.Now().Add(time.Minute)),
		}}
		mutate(&c)
		out, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name    string
		token   string
		advance time.Duration
		wantSub string
		wantMsg string
	}{
		{"valid", tok, 0, "u1", ""},
		{"valid just before expiry", tok, 15*time.Minute - time.Second, "u1", ""},
		{"expired", tok, 15*time.Minute + time.Second, "", msgTokenExpired},
		{"forged signature", forged, 0, "", msgInvalidToken},
		{"tampered payload", tamper(tok), 0, "", msgInvalidToken},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, func(*accessClaims) {}), 0, "", msgInvalidToken},
		{"HS512", sign(jwt.SigningMethodHS512, testSecret, func(*accessClaims) {}), 0, "", msgInvalidToken},
		{"wrong issuer", sign(jwt.SigningMethodHS256, testSecret, func(c *accessClaims) { c.Issuer = "evil" }), 0, "", msgInvalidToken},
		{"wrong audience", sign(jwt.SigningMethodHS256, testSecret, func(c *accessClaims) { c.Audience = jwt.ClaimStrings{"x"} }), 0, "", msgInvalidToken},
		{"no expiry", sign(jwt.SigningMethodHS256, testSecret, func(c *accessClaims) { c.ExpiresAt = nil }), 0, "", msgInvalidToken},
		{"no subject", sign(jwt.SigningMethodHS256, testSecret, func(c *accessClaims) { c.Subject = "" }), 0, "", msgInvalidToken},
		{"issued in the future", sign(jwt.SigningMethodHS256, testSecret, func(c *accessClaims) {
			c.IssuedAt = jwt.NewNumericDate(clock.Now().Add(time.Hour))
			c.ExpiresAt = jwt.NewNumericDate(clock.Now().Add(2 * time.Hour))
		}), 0, "", msgInvalidToken},
		{"empty", "", 0, "", msgInvalidToken},
		{"garbage", "not.a.jwt", 0, "", msgInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClock()
			c.Add(tc.advance)
			s.clock = c
			sub, exp, err := s.verifyAccessToken(tc.token)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				if sub != tc.wantSub {
					t.Errorf("got sub %q, want %q", sub, tc.wantSub)
				}
				if want := newFakeClock().Now().Add(15 * time.Minute); !exp.Equal(want) {
					t.Errorf("got exp %v, want %v", exp, want)
				}
				return
			}
			if got := ErrorCode(err); got != EUnauthorized {
				t.Fatalf("got code %q (%v), want %q", got, err, EUnauthorized)
			}
			if got := ErrorMessage(err); got != tc.wantMsg {
				t.Errorf("got message %q, want %q", got, tc.wantMsg)
			}
		})
	}
}

// tamper flips the role inside a token's payload without re-signing it.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := jwt.NewParser().DecodeSegment(parts[1])
	payload = bytes.Replace(payload, []byte(`"role":"admin"`), []byte(`"role":"user"`), 1)
	parts[1] = strings.TrimRight(jwtEncode(payload), "=")
	return strings.Join(parts, ".")
}

func jwtEncode(b []byte) string {
	return (&jwt.Token{}).EncodeSegment(b)
}

func TestPasswordHash(t *testing.T) {
	s := newUnitService(t, nil)
	h, err := s.hashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h, want) {
		t.Errorf("got hash %q, want prefix %q", h, want)
	}
	h2, _ := s.hashPassword("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name     string
		hash     string
		password string
		want     bool
	}{
		{"right", h, "correct horse", true},
		{"wrong", h, "correct horsf", false},
		{"empty password", h, "", false},
		{"empty hash", "", "correct horse", false},
		{"bcrypt hash", "$2a$10$abcdefghijklmnopqrstuv", "correct horse", false},
		{"argon2i", strings.Replace(h, "argon2id", "argon2i", 1), "correct horse", false},
		{"huge memory", strings.Replace(h, "m=19456", "m=4194304", 1), "correct horse", false},
		{"bad version", strings.Replace(h, "v=19", "v=16", 1), "correct horse", false},
		{"truncated", h[:len(h)-20], "correct horse", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := verifyPassword(tc.hash, tc.password); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRefreshTokenFormat(t *testing.T) {
	tok, hash, err := newRefreshToken(bytes.NewReader(bytes.Repeat([]byte{0xff}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
		t.Errorf("got token %q, want 43 base64url characters", tok)
	}
	if len(hash) != 64 {
		t.Errorf("got hash %q, want 64 hex characters", hash)
	}
	if got, ok := hashRefreshToken(tok); !ok || got != hash {
		t.Errorf("got hashRefreshToken %q %v, want %q true", got, ok, hash)
	}
	for _, bad := range []string{"", "short", tok + "A", strings.Repeat("!", 43)} {
		if _, ok := hashRefreshToken(bad); ok {
			t.Errorf("hashRefreshToken(%q) accepted", bad)
		}
	}
	if _, _, err := newRefreshToken(bytes.NewReader(nil)); err == nil {
		t.Error("got no error from an empty random source")
	}
}

func TestValidateAccount(t *testing.T) {
	tests := []struct {
		name                string
		username, password  string
		display             string
		wantCode            string
		wantUser, wantDispl string
	}{
		{"ok", " Alice_01 ", "password", "", "", "alice_01", "alice_01"},
		{"display name kept", "bob", "password", "  Bob B. ", "", "bob", "Bob B."},
		{"short username", "ab", "password", "", EInvalid, "", ""},
		{"long username", strings.Repeat("a", 33), "password", "", EInvalid, "", ""},
		{"space in username", "a b", "password", "", EInvalid, "", ""},
		{"unicode username", "alicé", "password", "", EInvalid, "", ""},
		{"short password", "alice", "1234567", "", EInvalid, "", ""},
		{"long password", "alice", strings.Repeat("p", 257), "", EInvalid, "", ""},
		{"max password", "alice", strings.Repeat("p", 256), "", "", "alice", "alice"},
		{"long display name", "alice", "password", strings.Repeat("é", 65), EInvalid, "", ""},
		{"display name 64 runes", "alice", "password", strings.Repeat("é", 64), "", "alice", strings.Repeat("é", 64)},
		{"control in display name", "alice", "password", "a\x00b", EInvalid, "", ""},
		{"invalid utf8 display name", "alice", "password", "a\xffb", EInvalid, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := normalizeUsername(tc.username)
			err := validateUsername(u)
			if err == nil {
				err = validatePassword(tc.password)
			}
			var d string
			if err == nil {
				d, err = normalizeDisplayName(tc.display, u)
			}
			if got := ErrorCode(err); got != tc.wantCode {
				t.Fatalf("got code %q (%v), want %q", got, err, tc.wantCode)
			}
			if err == nil && (u != tc.wantUser || d != tc.wantDispl) {
				t.Errorf("got %q/%q, want %q/%q", u, d, tc.wantUser, tc.wantDispl)
			}
		})
	}
}
