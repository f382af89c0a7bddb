package chatcore

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/argon2"
)

// Account limits.
const (
	MinUsernameLen       = 3
	MaxUsernameLen       = 32
	MinPasswordBytes     = 8
	MaxPasswordBytes     = 256
	MaxDisplayNameRunes  = 64
	refreshTokenBytes    = 32
	jwtIssuer            = "parley"
	jwtAudience          = "parley"
	msgBadCredentials    = "invalid username or password"
	msgTokenExpired      = "token expired"
	msgInvalidToken      = "invalid token"
	msgSessionRevoked    = "session revoked; please log in again"
	msgBadRefreshToken   = "invalid refresh token"
	msgRefreshExpired    = "refresh token expired"
	msgRefreshTokenReuse = "refresh token already used; please log in again"
)

// AuthResult is what register, login and refresh return to the client.
type AuthResult struct {
	User         *User  `json:"user"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"` // seconds
}

// AuthService manages accounts' credentials and sessions: register, log
// in, rotate and revoke refresh tokens, and verify access tokens.
type AuthService interface {
	// Register creates an account and logs it in. Usernames are
	// lower-cased. Errors: EInvalid (username 3–32 of [a-z0-9_.-],
	// password 8–256 bytes, display name ≤ 64 characters), EConflict
	// (username taken), ERateLimited (every password-hashing slot stayed
	// busy; Retry-After).
	Register(ctx context.Context, username, password, displayName string) (*AuthResult, error)
	// Login checks a username and password and starts a new session.
	// Errors: EUnauthorized (one message for unknown user and wrong
	// password), EAccountDisabled (the right password of a disabled
	// account), ERateLimited (every password-hashing slot stayed busy;
	// Retry-After).
	Login(ctx context.Context, username, password string) (*AuthResult, error)
	// Refresh rotates a refresh token. Errors: EUnauthorized (unknown,
	// expired or reused token; reuse revokes the whole family),
	// EAccountDisabled.
	Refresh(ctx context.Context, refreshToken string) (*AuthResult, error)
	// Logout revokes a refresh token's session; unknown or malformed
	// tokens succeed (idempotent). Only internal errors.
	Logout(ctx context.Context, refreshToken string) error
	// Authenticate verifies an access token and returns its user and
	// expiry. Errors: EUnauthorized ("token expired", "invalid token", or
	// "session revoked; please log in again" once its session was logged
	// out or revoked, on every node at once).
	Authenticate(ctx context.Context, accessToken string) (*User, time.Time, error)
	// SessionID returns the session (refresh-token family) an access token
	// was issued in; "" for tokens issued before sessions were recorded.
	// Errors: EUnauthorized, as Authenticate.
	SessionID(ctx context.Context, accessToken string) (string, error)
	// EnsureAdmin creates the admin account, or sets the password of the
	// existing admin of that name. An existing account that is not an admin
	// (someone registered the name first) is promoted only when
	// promoteExisting is true; otherwise EConflict. Whenever the password or
	// role changes, every session of the account is revoked. Errors:
	// EInvalid, EConflict.
	EnsureAdmin(ctx context.Context, username, password string, promoteExisting bool) (*User, error)
}

// authService implements AuthService.
type authService struct {
	*deps
	jwtSecret  []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	pw         argonParams // cost of new password hashes
	dummyHash  string      // compared against for unknown usernames
	hashes     *hashGate   // bounds concurrent password hashes
}

func newAuthService(d *deps, cfg ServiceConfig) (*authService, error) {
	s := &authService{
		deps:       d,
		jwtSecret:  append([]byte(nil), cfg.JWTSecret...),
		accessTTL:  cfg.AccessTTL,
		refreshTTL: cfg.RefreshTTL,
		pw:         defaultArgonParams(),
		hashes:     newHashGate(cfg.HashConcurrency, cfg.HashWait),
	}
	if s.accessTTL == 0 {
		s.accessTTL = DefaultAccessTTL
	}
	if s.refreshTTL == 0 {
		s.refreshTTL = DefaultRefreshTTL
	}
	dummy, err := s.hashPassword("parley-dummy-password")
	if err != nil {
		return nil, fmt.Errorf("chatcore: dummy password hash: %w", err)
	}
	s.dummyHash = dummy
	return s, nil
}

// accessClaims are the claims of an access token: iss, aud, sub (user id),
// iat, exp, and the user's role.
type accessClaims struct {
	Role Role `json:"role"`
	// Session is the refresh-token family the token was issued in; devices
	// registered with the token are bound to it.
	Session string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// Register creates an account and logs it in. Usernames are lower-cased.
// Errors: EInvalid (username 3–32 of [a-z0-9_.-], password 8–256 bytes,
// display name ≤ 64 characters), EConflict (username taken).
func (s *authService) Register(ctx context.Context, username, password, displayName string) (*AuthResult, error) {
	username = normalizeUsername(username)
	if err := validateUsername(username); err != nil {
		return nil, err
	}
	if err := validatePassword(password); err != nil {
		return nil, err
	}
	displayName, err := normalizeDisplayName(displayName, username)
	if err != nil {
		return nil, err
	}
	var hash string
	if gerr := s.hashes.do(ctx, func() { hash, err = s.hashPassword(password) }); gerr != nil {
		return nil, gerr
	}
	if err != nil {
		return nil, internalError("register", err)
	}
	id, err := newID()
	if err != nil {
		return nil, internalError("register", err)
	}
	u := &User{ID: id, Username: username, DisplayName: displayName, Role: RoleUser, CreatedAt: s.clock.Now().UTC()}
	if err := s.store.CreateUser(ctx, u, hash); err != nil {
		if ErrorCode(err) == EConflict {
			return nil, Errorf(EConflict, "username %q is taken", username)
		}
		return nil, internalError("register", err)
	}
	return s.issue(ctx, u, "")
}

// Login checks a username and password and starts a new session (a new
// refresh token family). Errors: EUnauthorized, with one message whether the
// user is unknown or the password wrong, and in about the same time.
func (s *authService) Login(ctx context.Context, username, password string) (*AuthResult, error) {
	username = normalizeUsername(username)
	u, hash, err := s.store.UserByUsername(ctx, username)
	if err != nil {
		if ErrorCode(err) != ENotFound {
			return nil, internalError("login", err)
		}
		// Spend the same time, through the same hashing slots, as a real
		// check so that response time does not reveal which usernames
		// exist.
		hash = s.dummyHash
		u = nil
	}
	// Always run the hash, even for an over-long password, so that timing
	// tells nothing more about existing users than about unknown ones.
	var ok bool
	if err := s.hashes.do(ctx, func() { ok = verifyPassword(hash, password) }); err != nil {
		return nil, err
	}
	if !ok || u == nil || len(password) > MaxPasswordBytes {
		return nil, Errorf(EUnauthorized, msgBadCredentials)
	}
	res, err := s.issue(ctx, u, "")
	if err != nil {
		return nil, err
	}
	if err := s.refuseDisabled(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Refresh rotates a refresh token: the presented one is spent and a new
// access and refresh token are returned in the same family. Presenting a
// token that was already rotated revokes its whole family (a stolen token
// was replayed). Errors: EUnauthorized.
func (s *authService) Refresh(ctx context.Context, refreshToken string) (*AuthResult, error) {
	hash, ok := hashRefreshToken(refreshToken)
	if !ok {
		return nil, Errorf(EUnauthorized, msgBadRefreshToken)
	}
	now := s.clock.Now()
	rt, err := s.store.UseRefreshToken(ctx, hash, now)
	switch ErrorCode(err) {
	case "":
	case ENotFound:
		return nil, Errorf(EUnauthorized, msgBadRefreshToken)
	case EUnauthorized:
		s.log.LogAttrs(ctx, slog.LevelWarn, "chatcore: refresh token reused; family revoked",
			slog.String("token_hash_prefix", hash[:12]))
		// The session's sockets close too (4012), the replayer's and the
		// owner's alike: either may be the thief.
		if rt, err := s.store.RefreshTokenByHash(ctx, hash); err == nil {
			s.closeSessionSockets(ctx, rt.UserID, []string{rt.FamilyID}, CloseSessionRevoked)
		}
		return nil, Errorf(EUnauthorized, msgRefreshTokenReuse)
	default:
		return nil, internalError("refresh", err)
	}
	if rt.RevokedAt != nil {
		return nil, Errorf(EUnauthorized, msgRefreshTokenReuse)
	}
	if !now.Before(rt.ExpiresAt) {
		return nil, Errorf(EUnauthorized, msgRefreshExpired)
	}
	u, err := s.store.UserByID(ctx, rt.UserID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, Errorf(EUnauthorized, msgBadRefreshToken)
		}
		return nil, internalError("refresh", err)
	}
	res, err := s.issue(ctx, u, rt.FamilyID)
	if err != nil {
		return nil, err
	}
	// A refresh racing DisableUser may insert its new token after the
	// sessions were revoked: the flag, set first, catches it here.
	if err := s.refuseDisabled(ctx, res); err != nil {
		return nil, err
	}
	return res, nil
}

// Logout revokes the family of a refresh token: that session's access
// tokens are refused and its refresh tokens stop working at once, and its
// open sockets close.
// Logging out with an unknown token succeeds (it is idempotent).
func (s *authService) Logout(ctx context.Context, refreshToken string) error {
	hash, ok := hashRefreshToken(refreshToken)
	if !ok {
		return nil
	}
	rt, err := s.store.RefreshTokenByHash(ctx, hash)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil
		}
		return internalError("logout", err)
	}
	if err := s.store.RevokeRefreshFamily(ctx, rt.FamilyID, s.clock.Now()); err != nil {
		return internalError("logout", err)
	}
	// The session's sockets close on every node (4012), on any device.
	s.closeSessionSockets(ctx, rt.UserID, []string{rt.FamilyID}, CloseSessionRevoked)
	if s.devices != nil {
		// The session's devices must not be woken for an account that left them.
		if _, err := s.devices.DeleteSessionDevices(ctx, rt.FamilyID); err != nil {
			return internalError("logout", err)
		}
	}
	return nil
}

// SessionID returns the session an access token belongs to.
func (s *authService) SessionID(_ context.Context, accessToken string) (string, error) {
	c, err := s.accessClaims(accessToken)
	if err != nil {
		return "", err
	}
	return c.Session, nil
}

// Authenticate verifies an access token and returns its user and expiry.
// Errors: EUnauthorized with message "token expired" or "invalid token".
func (s *authService) Authenticate(ctx context.Context, accessToken string) (*User, time.Time, error) {
	c, err := s.accessClaims(accessToken)
	if err != nil {
		return nil, time.Time{}, err
	}
	userID, exp := c.Subject, c.ExpiresAt.Time
	if c.Session != "" {
		// A logged-out or revoked session's access tokens stop working at
		// once on every node (they share the store), not only at expiry.
		active, err := s.store.SessionActive(ctx, c.Session)
		if err != nil {
			return nil, time.Time{}, internalError("authenticate", err)
		}
		if !active {
			return nil, time.Time{}, Errorf(EUnauthorized, msgSessionRevoked)
		}
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return nil, time.Time{}, Errorf(EUnauthorized, msgInvalidToken)
		}
		return nil, time.Time{}, internalError("authenticate", err)
	}
	return u, exp, nil
}

// EnsureAdmin creates the admin account, or updates the existing admin of
// that name; see AuthService.EnsureAdmin. Errors: EInvalid, EConflict.
func (s *authService) EnsureAdmin(ctx context.Context, username, password string, promoteExisting bool) (*User, error) {
	username = normalizeUsername(username)
	if err := validateUsername(username); err != nil {
		return nil, err
	}
	if err := validatePassword(password); err != nil {
		return nil, err
	}
	u, oldHash, err := s.store.UserByUsername(ctx, username)
	switch ErrorCode(err) {
	case "":
		if u.Role != RoleAdmin && !promoteExisting {
			return nil, Errorf(EConflict, "account %q exists and is not an admin: refusing to promote it (whoever registered the name would become admin); pick another admin username or allow promoting it explicitly", username)
		}
		if u.Role == RoleAdmin && verifyPassword(oldHash, password) {
			return u, nil // nothing changes: sessions stay
		}
		hash, err := s.hashPassword(password)
		if err != nil {
			return nil, internalError("ensure admin", err)
		}
		if err := s.store.SetUserCredentials(ctx, u.ID, RoleAdmin, hash); err != nil {
			return nil, internalError("ensure admin", err)
		}
		u.Role = RoleAdmin
		if err := s.revokeUserSessions(ctx, u.ID); err != nil {
			return nil, internalError("ensure admin", err)
		}
		// Its open sockets close on every node now (4012), not when their
		// access tokens expire.
		s.closeSockets(ctx, u.ID, nil, CloseSessionRevoked)
		return u, nil
	case ENotFound:
	default:
		return nil, internalError("ensure admin", err)
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, internalError("ensure admin", err)
	}
	id, err := newID()
	if err != nil {
		return nil, internalError("ensure admin", err)
	}
	u = &User{ID: id, Username: username, DisplayName: username, Role: RoleAdmin, CreatedAt: s.clock.Now().UTC()}
	if err := s.store.CreateUser(ctx, u, hash); err != nil {
		if ErrorCode(err) == EConflict { // created concurrently: update it instead
			return s.EnsureAdmin(ctx, username, password, promoteExisting)
		}
		return nil, internalError("ensure admin", err)
	}
	return u, nil
}

// revokeUserSessions revokes every session of a user and removes the push
// devices bound to them: their refresh and access tokens stop working.
func (s *authService) revokeUserSessions(ctx context.Context, userID string) error {
	fams, err := s.store.RevokeUserSessions(ctx, userID, s.clock.Now())
	if err != nil {
		return err
	}
	if s.devices != nil {
		for _, f := range fams {
			if _, err := s.devices.DeleteSessionDevices(ctx, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// issue returns a new access token and a new refresh token for u; the
// refresh token starts a new family unless familyID is given (rotation).
func (s *authService) issue(ctx context.Context, u *User, familyID string) (*AuthResult, error) {
	var err error
	if familyID == "" {
		if familyID, err = newID(); err != nil {
			return nil, internalError("issue tokens", err)
		}
	}
	access, err := s.signAccessToken(u, familyID)
	if err != nil {
		return nil, internalError("issue tokens", err)
	}
	token, hash, err := newRefreshToken(s.rand)
	if err != nil {
		return nil, internalError("issue tokens", err)
	}
	now := s.clock.Now().UTC()
	rt := &RefreshToken{Hash: hash, FamilyID: familyID, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.refreshTTL)}
	if err := s.store.CreateRefreshToken(ctx, rt); err != nil {
		return nil, internalError("issue tokens", err)
	}
	if err := s.noteSession(ctx, u.ID, familyID, now); err != nil { // account_session.go
		return nil, internalError("issue tokens", err)
	}
	return &AuthResult{User: u, AccessToken: access, RefreshToken: token, ExpiresIn: int(s.accessTTL / time.Second)}, nil
}

// signAccessToken returns an HS256 JWT for u valid for the access TTL.
func (s *authService) signAccessToken(u *User, session string) (string, error) {
	now := s.clock.Now()
	claims := accessClaims{
		Role:    u.Role,
		Session: session,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    jwtIssuer,
			Audience:  jwt.ClaimStrings{jwtAudience},
			Subject:   u.ID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.accessTTL)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.jwtSecret)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return tok, nil
}

// verifyAccessToken checks signature, algorithm, issuer, audience and
// expiry against the service clock, and returns the subject and expiry.
func (s *authService) verifyAccessToken(token string) (userID string, exp time.Time, err error) {
	c, err := s.accessClaims(token)
	if err != nil {
		return "", time.Time{}, err
	}
	return c.Subject, c.ExpiresAt.Time, nil
}

// accessClaims verifies token as verifyAccessToken does and returns its claims.
func (s *authService) accessClaims(token string) (*accessClaims, error) {
	var err error
	if token == "" {
		return nil, Errorf(EUnauthorized, msgInvalidToken)
	}
	var claims accessClaims
	_, err = jwt.ParseWithClaims(token, &claims,
		func(*jwt.Token) (any, error) { return s.jwtSecret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(jwtIssuer),
		jwt.WithAudience(jwtAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.clock.Now),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, Errorf(EUnauthorized, msgTokenExpired)
		}
		return nil, Errorf(EUnauthorized, msgInvalidToken)
	}
	if claims.Subject == "" || claims.ExpiresAt == nil {
		return nil, Errorf(EUnauthorized, msgInvalidToken)
	}
	return &claims, nil
}

// newRefreshToken returns an opaque token (32 random bytes, base64url) and
// the hex sha256 the store keeps instead of it.
func newRefreshToken(r io.Reader) (token, hash string, err error) {
	var b [refreshTokenBytes]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", "", fmt.Errorf("read random: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(token))
	return token, hex.EncodeToString(sum[:]), nil
}

// hashRefreshToken returns the stored form of a token the client presents,
// and false if it cannot be one of ours.
func hashRefreshToken(token string) (string, bool) {
	if base64.RawURLEncoding.EncodedLen(refreshTokenBytes) != len(token) {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:]), true
}

// argonParams are the cost parameters of an argon2id hash.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// defaultArgonParams follow the OWASP minimum for argon2id (19 MiB, two
// passes, one lane): about 25 ms per hash on one core of these machines,
// so logins cannot starve a 2-core node.
func defaultArgonParams() argonParams {
	return argonParams{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// hashPassword returns a PHC-style argon2id hash:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func (s *authService) hashPassword(password string) (string, error) {
	p := s.pw
	salt := make([]byte, p.SaltLen)
	if _, err := io.ReadFull(s.rand, salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches a PHC argon2id hash,
// comparing in constant time. A malformed hash never matches.
func verifyPassword(encoded, password string) bool {
	p, salt, key, ok := parseArgonHash(encoded)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// maxArgonMemoryKiB is the most memory a stored hash may ask one
// verification to use (256 MiB).
const maxArgonMemoryKiB = 256 * 1024

// parseArgonHash decodes $argon2id$v=19$m=M,t=T,p=P$salt$key. It bounds
// the parameters so that a corrupted row cannot make a login allocate
// gigabytes.
func parseArgonHash(encoded string) (p argonParams, salt, key []byte, ok bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, false
	}
	var m, t, par uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return p, nil, nil, false
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, false
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			par = n
		default:
			return p, nil, nil, false
		}
	}
	if m < 8 || m > maxArgonMemoryKiB || t < 1 || t > 16 || par < 1 || par > 16 {
		return p, nil, nil, false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, false
	}
	key, err = b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, false
	}
	return argonParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(par)}, salt, key, true
}

func normalizeUsername(u string) string {
	return strings.ToLower(strings.TrimSpace(u))
}

// validateUsername checks an already lower-cased username.
func validateUsername(u string) error {
	if len(u) < MinUsernameLen || len(u) > MaxUsernameLen {
		return Errorf(EInvalid, "username must be %d to %d characters", MinUsernameLen, MaxUsernameLen)
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return Errorf(EInvalid, "username may only hold a-z, 0-9, '_', '.' and '-'")
		}
	}
	return nil
}

func validatePassword(p string) error {
	if len(p) < MinPasswordBytes || len(p) > MaxPasswordBytes {
		return Errorf(EInvalid, "password must be %d to %d bytes", MinPasswordBytes, MaxPasswordBytes)
	}
	return nil
}

// normalizeDisplayName cleans d as every name is (cleanName: NFC, no
// zero-width or bidi control characters, at most MaxDisplayNameRunes) and
// defaults it to the username.
func normalizeDisplayName(d, username string) (string, error) {
	d, err := cleanName(d, "display name", MaxDisplayNameRunes)
	if err != nil {
		return "", err
	}
	if d == "" {
		return username, nil
	}
	return d, nil
}
