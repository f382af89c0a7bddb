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
)

func TestParseBenchFlags(t *testing.T) {
	defaults := benchConfig{
		URL: "http://127.0.0.1:8080", Clients: 1000, GroupSize: 10, Rate: 500,
		Duration: 30 * time.Second, Drain: 5 * time.Second, RegisterConcurrency: 8,
		ConnectConcurrency: 32, SourceIPs: 1, SetupTimeout: 10 * time.Minute, Settle: 5 * time.Second,
	}
	tests := []struct {
		name    string
		args    []string
		want    benchConfig
		wantErr string
	}{
		{"defaults", nil, defaults, ""},
		{"everything", []string{"--url", "http://127.0.0.1:9000", "--clients", "20", "--group-size", "2",
			"--rate", "2000", "--duration", "5s", "--drain", "0s", "--idle", "--pid", "42",
			"--register-concurrency", "4", "--connect-concurrency", "8", "--source-ips", "10", "--setup-timeout", "1m", "--settle", "1s", "--users", "u.json"},
			benchConfig{URL: "http://127.0.0.1:9000", Clients: 20, GroupSize: 2, Rate: 2000, Duration: 5 * time.Second,
				Idle: true, PID: 42, RegisterConcurrency: 4, ConnectConcurrency: 8, SourceIPs: 10, SetupTimeout: time.Minute, Settle: time.Second, UsersFile: "u.json"}, ""},
		{"idle needs no rate", []string{"--idle", "--rate", "0"}, func() benchConfig { c := defaults; c.Idle, c.Rate = true, 0; return c }(), ""},
		{"bad scheme", []string{"--url", "ws://127.0.0.1:8080"}, benchConfig{}, "--url"},
		{"no host", []string{"--url", "http://"}, benchConfig{}, "--url"},
		{"one client", []string{"--clients", "1"}, benchConfig{}, "--clients"},
		{"group larger than clients", []string{"--clients", "5", "--group-size", "6"}, benchConfig{}, "--group-size"},
		{"group of one", []string{"--group-size", "1"}, benchConfig{}, "--group-size"},
		{"zero rate", []string{"--rate", "0"}, benchConfig{}, "--rate"},
		{"zero duration", []string{"--duration", "0s"}, benchConfig{}, "--duration"},
		{"zero concurrency", []string{"--register-concurrency", "0"}, benchConfig{}, "--register-concurrency"},
		{"source ips off loopback", []string{"--url", "http://10.0.0.1:8080", "--source-ips", "4"}, benchConfig{}, "loopback"},
		{"too many source ips", []string{"--source-ips", "251"}, benchConfig{}, "--source-ips"},
		{"stray argument", []string{"extra"}, benchConfig{}, "unexpected"},
		{"unknown flag", []string{"--nope"}, benchConfig{}, "not defined"},
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

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: summarize must sort
	}
	tests := []struct {
		name string
		in   []time.Duration
		want latencySummary
	}{
		{"empty", nil, latencySummary{}},
		{"one", ms(7), latencySummary{N: 1, P50: 7 * time.Millisecond, P95: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"1..100", ms(hundred...), latencySummary{N: 100, P50: 50 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		{"outlier", ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 500), latencySummary{N: 10, P50: time.Millisecond, P95: 500 * time.Millisecond, P99: 500 * time.Millisecond, Max: 500 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := summarize(tc.in); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestGroups(t *testing.T) {
	tests := []struct {
		n, size int
		want    [][]int
	}{
		{4, 2, [][]int{{0, 1}, {2, 3}}},
		{5, 2, [][]int{{0, 1}, {2, 3, 4}}},
		{7, 3, [][]int{{0, 1, 2}, {3, 4, 5, 6}}},
		{8, 3, [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7}}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d_by_%d", tc.n, tc.size), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, groups(tc.n, tc.size)); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBenchBody(t *testing.T) {
	sent := time.Unix(1700000000, 123456789)
	body := benchBody("ab12", sent, 7)
	tests := []struct {
		name, run, body string
		want            time.Time
		wantOK          bool
	}{
		{"round trip", "ab12", body, sent, true},
		{"other run", "ffff", body, time.Time{}, false},
		{"not a bench body", "ab12", "hello", time.Time{}, false},
		{"garbled time", "ab12", "pbench ab12 x 7", time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseBenchBody(tc.run, tc.body)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseProc(t *testing.T) {
	status := "Name:\tparley\nVmPeak:\t  999 kB\nVmRSS:\t   45678 kB\nThreads:\t9\n"
	if got, err := parseVmRSS(strings.NewReader(status)); err != nil || got != 45678 {
		t.Errorf("VmRSS: got %d, %v; want 45678, nil", got, err)
	}
	if _, err := parseVmRSS(strings.NewReader("Name:\tx\n")); err == nil {
		t.Errorf("VmRSS missing: got nil error, want one")
	}
	stat := "1234 (par ley) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 9 0 100 0 0"
	if got, err := parseCPUTicks(stat); err != nil || got != 300 {
		t.Errorf("cpu ticks: got %d, %v; want 300, nil", got, err)
	}
	if _, err := parseCPUTicks("garbage"); err == nil {
		t.Errorf("cpu ticks of garbage: got nil error, want one")
	}
}

func TestParseGoMem(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     goMem
		wantLive float64
	}{
		{"all there", "# HELP x\ngo_memstats_next_gc_bytes 4.2e+07\ngo_gc_gogc_percent 100\n" +
			"go_memstats_stack_inuse_bytes 2e+06\ngo_goroutines 23\ngo_memstats_last_gc_time_seconds 1.7e+09\n",
			goMem{nextGC: 42e6, gogc: 100, stack: 2e6, goroutines: 23, lastGC: time.Unix(1700000000, 0), ok: true}, 20e6},
		{"gc off", "go_memstats_next_gc_bytes 1\ngo_gc_gogc_percent -1\ngo_memstats_stack_inuse_bytes 1\n" +
			"go_goroutines 1\ngo_memstats_last_gc_time_seconds 0\n",
			goMem{nextGC: 1, gogc: -1, stack: 1, goroutines: 1, lastGC: time.Unix(0, 0)}, 0},
		{"no go collector", "parley_messages_stored_total 5\n", goMem{lastGC: time.Unix(0, 0)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseGoMem(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(goMem{})); diff != "" {
				t.Errorf("goMem (-want +got):\n%s", diff)
			}
			if got.ok && got.live() != tc.wantLive {
				t.Errorf("live: got %v, want %v", got.live(), tc.wantLive)
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
			var s sendFrame
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
