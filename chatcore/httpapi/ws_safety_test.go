package httpapi

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// TestWebSocketTypingLimitPerUser: the typing limit is the user's, shared
// by all their sockets: a second socket does not get a fresh allowance.
func TestWebSocketTypingLimitPerUser(t *testing.T) {
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		c.RateLimits.TypingPerSecond = 0.01
		c.RateLimits.TypingBurst = 2
	}})
	bea, cal := e.register("bea"), e.register("cal")
	conv := e.direct(bea, cal)
	s1, s2 := e.dial(bea.access), e.dial(bea.access)
	typing := map[string]any{"type": "typing", "conversation_id": conv.ID, "state": "start"}
	s1.sendJSON(typing)
	s1.sendJSON(map[string]any{"type": "ping"}) // frames of a socket are handled in order
	for f := s1.next(); f.Type != "pong"; f = s1.next() {
		if f.Type == "error" {
			t.Fatalf("first typing frame: %s", f.Raw)
		}
	}
	s2.sendJSON(typing)
	s2.sendJSON(typing)
	f := s2.next()
	for f.Type != "error" {
		f = s2.next()
	}
	if f.Code != "rate_limited" {
		t.Fatalf("third typing frame of the user: got %s, want rate_limited", f.Raw)
	}
}

// revokeWhileConnecting is the real auth service, except that once armed,
// the next Authenticate that passes logs the session out right after the
// check: the revocation lands between the socket's token check and its
// joining the hub, so its close event reaches no socket.
type revokeWhileConnecting struct {
	chatcore.AuthService
	refresh string
	armed   atomic.Bool
	tb      testing.TB
}

func (a *revokeWhileConnecting) Authenticate(ctx context.Context, token string) (*chatcore.User, time.Time, error) {
	u, exp, err := a.AuthService.Authenticate(ctx, token)
	if err == nil && a.armed.CompareAndSwap(true, false) {
		if lerr := a.AuthService.Logout(ctx, a.refresh); lerr != nil {
			a.tb.Errorf("logout: %v", lerr)
		}
	}
	return u, exp, err
}

// TestWebSocketRevokedWhileConnecting: a socket whose session is revoked
// while it connects still closes with 4012, instead of living on until its
// access token expires.
func TestWebSocketRevokedWhileConnecting(t *testing.T) {
	auth := &revokeWhileConnecting{tb: t}
	e := newEnv(t, envOptions{cfg: func(c *Config) {
		auth.AuthService = c.Auth
		c.Auth = auth
	}})
	dee := e.register("dee")
	auth.refresh = dee.refresh
	auth.armed.Store(true)
	s := e.dial(dee.access)
	if st := s.closeStatus(5 * time.Second); st != closeSessionRevoked {
		t.Fatalf("socket of a session revoked while it connected: closed with %d, want %d", st, closeSessionRevoked)
	}
	// A socket of a live session stays.
	eve := e.register("eve")
	s2 := e.dial(eve.access)
	s2.sendJSON(map[string]any{"type": "ping", "ref": "still-here"})
	for f := s2.next(); f.Type != "pong"; f = s2.next() {
	}
}
