package main

import (
	"net/http"
	"testing"
)

// currentSession returns the id of the session of c's access token.
func (c *client) currentSession() string {
	c.t.Helper()
	var ss struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	c.do("GET", "/v1/me/sessions", nil, http.StatusOK, &ss)
	for _, s := range ss.Sessions {
		if s.Current {
			return s.ID
		}
	}
	c.t.Fatalf("no current session in %+v", ss.Sessions)
	return ""
}

// alive checks that s still answers a ping.
func (s *socket) alive(what string) {
	s.t.Helper()
	s.send(map[string]any{"type": "ping", "ref": what})
	s.expect("pong", func(f map[string]any) bool { return f["ref"] == what })
}

// TestRevokedSessionSocketsCloseOnEveryNodeE2E: alice has three sessions
// with sockets on two nodes. Revoking one session from node A closes its
// socket on node B with 4012 session_revoked at once, while the sockets
// of her other sessions stay; a replayed refresh token and a password
// change close the sockets of the sessions they revoke, and logging out
// closes the session's own.
func TestRevokedSessionSocketsCloseOnEveryNodeE2E(t *testing.T) {
	env := serveEnv(t, "PARLEY_AUTH_PER_MINUTE=-1") // ten logins, refreshes and logouts: more than a burst
	nodeA := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	nodeB := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	register(t, nodeA.URL, "alice")
	laptop, laptopRefresh := session(t, nodeA.URL, "alice")
	phone, _ := session(t, nodeB.URL, "alice")
	tablet, tabletRefresh := session(t, nodeB.URL, "alice")
	watch, watchRefresh := session(t, nodeA.URL, "alice")

	laptopOnB := laptop.on(nodeB.URL).dial()
	laptopOnA := laptop.dial()
	phoneOnB := phone.dial()
	tabletOnB := tablet.dial()
	tabletOnA := tablet.on(nodeA.URL).dial()
	watchOnB := watch.on(nodeB.URL).dial()

	// A replayed refresh token revokes its session: its socket closes too.
	anon := &client{t: t, base: nodeA.URL}
	anon.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": watchRefresh}, http.StatusOK, nil)
	anon.do("POST", "/v1/auth/refresh", map[string]string{"refresh_token": watchRefresh}, http.StatusUnauthorized, nil)
	if st := watchOnB.closeStatus(); st != 4012 {
		t.Fatalf("replayed session's socket on node B closed with %d, want 4012", st)
	}

	laptop.do("DELETE", "/v1/me/sessions/"+phone.currentSession(), nil, http.StatusNoContent, nil)
	if st := phoneOnB.closeStatus(); st != 4012 {
		t.Fatalf("revoked session's socket on node B closed with %d, want 4012", st)
	}
	for name, s := range map[string]*socket{"laptop on B": laptopOnB, "laptop on A": laptopOnA, "tablet on B": tabletOnB, "tablet on A": tabletOnA} {
		s.alive(name)
	}

	// A password change from the laptop ends the tablet's sockets on both nodes.
	laptop.do("POST", "/v1/me/password", map[string]string{"current": "correct horse battery", "new": "a new password"}, http.StatusNoContent, nil)
	for name, s := range map[string]*socket{"tablet on B": tabletOnB, "tablet on A": tabletOnA} {
		if st := s.closeStatus(); st != 4012 {
			t.Errorf("%s closed with %d after the password change, want 4012", name, st)
		}
	}
	laptopOnB.alive("laptop on B after the password change")
	laptopOnA.alive("laptop on A after the password change")
	// Logging out a revoked session changes nothing for the others; the
	// laptop's own logout closes its sockets on both nodes.
	anon.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": tabletRefresh}, http.StatusNoContent, nil)
	laptopOnB.alive("laptop on B after another session's logout")
	anon.do("POST", "/v1/auth/logout", map[string]string{"refresh_token": laptopRefresh}, http.StatusNoContent, nil)
	for name, s := range map[string]*socket{"laptop on B": laptopOnB, "laptop on A": laptopOnA} {
		if st := s.closeStatus(); st != 4012 {
			t.Errorf("%s closed with %d after its logout, want 4012", name, st)
		}
	}
}
