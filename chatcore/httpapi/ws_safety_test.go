package httpapi

import (
	"testing"
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
