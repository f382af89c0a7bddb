package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/testenv"
)

// TestRateLimitHoldsAcrossServeNodes: one client IP logging in through two
// serve nodes in turn gets the auth burst (10) once in total, not once per
// node, because parley serve keeps its buckets in Redis.
func TestRateLimitHoldsAcrossServeNodes(t *testing.T) {
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + testenv.Redis(t),
		"PARLEY_JWT_SECRET=" + strings.Repeat("e2e-secret-", 4),
		"PARLEY_AUTH_PER_MINUTE=1", // burst 10, one more per minute
		"PARLEY_LOG_LEVEL=warn",
	}
	nodeA := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	nodeB := start(t, env, nil, "serve", "-addr", "127.0.0.1:0")
	allowed, limited := 0, 0
	for i := 0; i < 30; i++ {
		base := nodeA.URL
		if i%2 == 1 {
			base = nodeB.URL
		}
		body, _ := json.Marshal(map[string]string{"username": "nobody", "password": "wrong password"})
		resp, err := http.Post(base+"/v1/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			allowed++
		case http.StatusTooManyRequests:
			if resp.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			limited++
		default:
			t.Fatalf("login %d: got status %d, want 401 or 429", i, resp.StatusCode)
		}
	}
	// 10 is the burst; one more token may refill during a slow run.
	if allowed < 10 || allowed > 11 {
		t.Fatalf("logins let through by two nodes: got %d (limited %d), want 10 (11 at most): the burst once, not per node", allowed, limited)
	}
}
