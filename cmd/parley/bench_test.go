package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/internal/loadgen"
)

func TestParseBenchFlags(t *testing.T) {
	defaults := loadgen.Config{
		URL: "http://127.0.0.1:8080", Clients: 1000, GroupSize: 10, Rate: 500,
		Duration: 30 * time.Second, Drain: 5 * time.Second, RegisterConcurrency: 8,
		ConnectConcurrency: 32, SourceIPs: 1, SetupTimeout: 10 * time.Minute, Settle: 5 * time.Second,
	}
	tests := []struct {
		name    string
		args    []string
		want    loadgen.Config
		wantErr string
	}{
		{"defaults", nil, defaults, ""},
		{"everything", []string{"--url", "http://127.0.0.1:9000", "--clients", "20", "--group-size", "2",
			"--rate", "2000", "--duration", "5s", "--drain", "0s", "--idle", "--pid", "42",
			"--register-concurrency", "4", "--connect-concurrency", "8", "--source-ips", "10", "--setup-timeout", "1m", "--settle", "1s", "--users", "u.json"},
			loadgen.Config{URL: "http://127.0.0.1:9000", Clients: 20, GroupSize: 2, Rate: 2000, Duration: 5 * time.Second,
				Idle: true, PID: 42, RegisterConcurrency: 4, ConnectConcurrency: 8, SourceIPs: 10, SetupTimeout: time.Minute, Settle: time.Second, UsersFile: "u.json"}, ""},
		{"idle needs no rate", []string{"--idle", "--rate", "0"}, func() loadgen.Config { c := defaults; c.Idle, c.Rate = true, 0; return c }(), ""},
		{"bad scheme", []string{"--url", "ws://127.0.0.1:8080"}, loadgen.Config{}, "--url"},
		{"no host", []string{"--url", "http://"}, loadgen.Config{}, "--url"},
		{"one client", []string{"--clients", "1"}, loadgen.Config{}, "--clients"},
		{"group larger than clients", []string{"--clients", "5", "--group-size", "6"}, loadgen.Config{}, "--group-size"},
		{"group of one", []string{"--group-size", "1"}, loadgen.Config{}, "--group-size"},
		{"zero rate", []string{"--rate", "0"}, loadgen.Config{}, "--rate"},
		{"zero duration", []string{"--duration", "0s"}, loadgen.Config{}, "--duration"},
		{"zero concurrency", []string{"--register-concurrency", "0"}, loadgen.Config{}, "--register-concurrency"},
		{"source ips off loopback", []string{"--url", "http://10.0.0.1:8080", "--source-ips", "4"}, loadgen.Config{}, "loopback"},
		{"too many source ips", []string{"--source-ips", "251"}, loadgen.Config{}, "--source-ips"},
		{"stray argument", []string{"extra"}, loadgen.Config{}, "unexpected"},
		{"unknown flag", []string{"--nope"}, loadgen.Config{}, "not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBenchFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeChat is the smallest server speaking issue 2's protocol that the
// bench needs: register, create conversation, and a socket that acks sends
// and pushes them to the other members. Its first registration answers 429.
type fakeChat struct {
	mu      sync.Mutex
	users   int
	convs   map[string][]string        // conversation id → member ids
	sockets map[string]*websocket.Conn // user id → socket
	limited bool
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/auth/register":
		f.mu.Lock()
		if !f.limited {
			f.limited = true
			f.mu.Unlock()
			w.Header().Set("Retry-After", "1")
			http.Error(w, `{"code":"rate_limited"}`, http.StatusTooManyRequests)
			return
		}
		f.users++
		id := fmt.Sprint("u", f.users)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"user": map[string]string{"id": id}, "access_token": id, "refresh_token": "r", "expires_in": 900})
	case "/v1/conversations":
		var req struct {
			MemberIDs []string `json:"member_ids"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		id := fmt.Sprint("c", len(f.convs)+1)
		f.convs[id] = append(req.MemberIDs, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"conversation": map[string]string{"id": id}})
	case "/v1/ws":
		user := r.URL.Query().Get("access_token")
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.sockets[user] = c
		f.mu.Unlock()
		ctx := r.Context()
		c.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","user_id":"`+user+`"}`))
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			var s struct { // a send frame
				ClientID       string `json:"client_id"`
				ConversationID string `json:"conversation_id"`
				Body           string `json:"body"`
			}
			json.Unmarshal(data, &s)
			msg, _ := json.Marshal(map[string]any{"conversation_id": s.ConversationID, "sender_id": user, "body": s.Body})
			c.Write(ctx, websocket.MessageText, []byte(`{"type":"ack","client_id":"`+s.ClientID+`","message":`+string(msg)+`}`))
			f.mu.Lock()
			var peers []*websocket.Conn
			for _, m := range f.convs[s.ConversationID] {
				if m != user && f.sockets[m] != nil {
					peers = append(peers, f.sockets[m])
				}
			}
			f.mu.Unlock()
			for _, p := range peers {
				p.Write(ctx, websocket.MessageText, []byte(`{"type":"message","message":`+string(msg)+`}`))
			}
		}
	default:
		http.NotFound(w, r)
	}
}

func TestRunBenchAgainstFakeServer(t *testing.T) {
	srv := httptest.NewServer(&fakeChat{convs: map[string][]string{}, sockets: map[string]*websocket.Conn{}})
	t.Cleanup(srv.Close)
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := runBench(ctx, []string{"--url", srv.URL, "--clients", "7", "--group-size", "3",
		"--rate", "70", "--duration", "500ms", "--drain", "2s"}, &out, &errOut)
	if err != nil {
		t.Fatalf("runBench: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
	}
	report := out.String()
	t.Logf("report:\n%s", report)
	for _, want := range []string{"7 clients", "2 conversations", "7 sockets", "stored", "100.00%", "deliver     p50", "0 error frames, 0 dropped connections"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(errOut.String(), "rate limited") {
		t.Errorf("stderr lacks the rate-limit notice: %q", errOut.String())
	}
}

func TestRunBenchReusesSavedUsers(t *testing.T) {
	fake := &fakeChat{convs: map[string][]string{}, sockets: map[string]*websocket.Conn{}, limited: true}
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	users := t.TempDir() + "/users.json"
	args := []string{"--url", srv.URL, "--clients", "4", "--group-size", "2", "--idle", "--duration", "10ms", "--users", users}
	for run := 1; run <= 2; run++ {
		var out, errOut bytes.Buffer
		if err := runBench(context.Background(), args, &out, &errOut); err != nil {
			t.Fatalf("run %d: %v\n%s%s", run, err, &out, &errOut)
		}
		if got, want := strings.Contains(errOut.String(), "reusing 4 users"), run == 2; got != want {
			t.Errorf("run %d: reused users %v, want %v (stderr %q)", run, got, want, errOut.String())
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.users != 4 {
		t.Errorf("registrations: got %d, want 4", fake.users)
	}
}

func TestRunBenchFailsOnRejectedRegistration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"code":"invalid","message":"username taken"}`)
	}))
	t.Cleanup(srv.Close)
	err := runBench(context.Background(), []string{"--url", srv.URL, "--clients", "4", "--group-size", "2"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "status 400") || !strings.Contains(err.Error(), "username taken") {
		t.Errorf("got %v, want an error with the status and the server's message", err)
	}
}
