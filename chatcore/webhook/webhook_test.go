package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/webhook"
)

// request is what the test server saw.
type request struct {
	Method, ContentType, IdempotencyKey, Timestamp, Signature string
	Body                                                      []byte
}

// recorder is a webhook endpoint that answers with the given statuses in
// turn (the last one repeats); status 0 drops the connection.
type recorder struct {
	mu       sync.Mutex
	statuses []int
	requests []request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.requests = append(rec.requests, request{
		Method: r.Method, ContentType: r.Header.Get("Content-Type"),
		IdempotencyKey: r.Header.Get("Idempotency-Key"), Timestamp: r.Header.Get("X-Parley-Timestamp"), Signature: r.Header.Get("X-Parley-Signature"),
		Body: body,
	})
	status := rec.statuses[min(len(rec.requests), len(rec.statuses))-1]
	rec.mu.Unlock()
	if status == 0 {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(status)
}

func (rec *recorder) seen() []request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]request(nil), rec.requests...)
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustClose(t *testing.T, n *webhook.Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}

var note = chatcore.Notification{UserID: "u2", ConversationID: "c1", Seq: 42, SenderID: "u1"}

func TestNotifierDeliversJSON(t *testing.T) {
	rec := &recorder{statuses: []int{http.StatusNoContent}}
	srv := newServer(t, rec)
	sent := time.Unix(1_800_000_000, 0)
	n := webhook.New(webhook.Config{URL: srv.URL, Secret: "s3cret", Logger: quiet(), Now: func() time.Time { return sent }})
	if err := n.Notify(context.Background(), note); err != nil {
		t.Fatalf("notify: %v", err)
	}
	mustClose(t, n)

	reqs := rec.seen()
	if len(reqs) != 1 {
		t.Fatalf("requests: got %d, want 1", len(reqs))
	}
	got := reqs[0]
	// The signature is HMAC-SHA256(secret, timestamp + "." + body), computed
	// here independently of the package.
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("1800000000." + string(got.Body)))
	want := request{
		Method: http.MethodPost, ContentType: "application/json",
		IdempotencyKey: "c1:42:u2", Timestamp: "1800000000", Signature: "sha256=" + hex.EncodeToString(mac.Sum(nil)),
		Body: got.Body,
	}
	if err := webhook.Verify("s3cret", got.Timestamp, got.Signature, got.Body, sent.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("verify: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil {
		t.Fatalf("body %s: %v", got.Body, err)
	}
	wantBody := map[string]any{"user_id": "u2", "conversation_id": "c1", "seq": float64(42), "sender_id": "u1"}
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if st := n.Stats(); st != (webhook.Stats{Delivered: 1}) {
		t.Errorf("stats: got %+v, want 1 delivered", st)
	}
}

func TestNotifierRetries(t *testing.T) {
	tests := []struct {
		name         string
		statuses     []int
		maxRetries   int
		wantAttempts int
		wantStats    webhook.Stats
	}{
		{"ok at once", []int{200}, 3, 1, webhook.Stats{Delivered: 1}},
		{"500s then success", []int{500, 502, 200}, 3, 3, webhook.Stats{Delivered: 1, Retries: 2}},
		{"network error then success", []int{0, 200}, 3, 2, webhook.Stats{Delivered: 1, Retries: 1}},
		{"429 then success", []int{429, 200}, 3, 2, webhook.Stats{Delivered: 1, Retries: 1}},
		{"gives up after max retries", []int{503}, 2, 3, webhook.Stats{Failed: 1, Retries: 2}},
		{"never retries when told not to", []int{500}, -1, 1, webhook.Stats{Failed: 1}},
		{"no retry on 400", []int{400, 200}, 3, 1, webhook.Stats{Failed: 1}},
		{"no retry on 404", []int{404, 200}, 3, 1, webhook.Stats{Failed: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{statuses: tc.statuses}
			srv := newServer(t, rec)
			n := webhook.New(webhook.Config{
				URL: srv.URL, MaxRetries: tc.maxRetries,
				BaseBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
				Logger: quiet(),
			})
			if err := n.Notify(context.Background(), note); err != nil {
				t.Fatalf("notify: %v", err)
			}
			mustClose(t, n)
			reqs := rec.seen()
			if len(reqs) != tc.wantAttempts {
				t.Errorf("attempts: got %d, want %d", len(reqs), tc.wantAttempts)
			}
			for i, r := range reqs {
				if string(r.Body) != string(reqs[0].Body) || r.IdempotencyKey != "c1:42:u2" {
					t.Errorf("attempt %d differs from the first: got %s %q", i+1, r.Body, r.IdempotencyKey)
				}
			}
			if got := n.Stats(); got != tc.wantStats {
				t.Errorf("stats: got %+v, want %+v", got, tc.wantStats)
			}
		})
	}
}

func TestNotifierDropsWhenQueueFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
	}))
	n := webhook.New(webhook.Config{URL: srv.URL, Workers: 1, QueueSize: 1, Logger: quiet()})
	ctx := context.Background()
	if err := n.Notify(ctx, note); err != nil { // taken by the worker
		t.Fatalf("notify 1: %v", err)
	}
	<-started
	if err := n.Notify(ctx, note); err != nil { // waits in the queue
		t.Fatalf("notify 2: %v", err)
	}
	begin := time.Now()
	if err := n.Notify(ctx, note); !errors.Is(err, webhook.ErrQueueFull) {
		t.Errorf("notify 3: got %v, want ErrQueueFull", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("notify on a full queue took %v, want no blocking", d)
	}
	close(release)
	mustClose(t, n)
	if got, want := n.Stats(), (webhook.Stats{Delivered: 2, Dropped: 1}); got != want {
		t.Errorf("stats: got %+v, want %+v", got, want)
	}
}

func TestNotifierCloseDeadline(t *testing.T) {
	rec := &recorder{statuses: []int{500}}
	srv := newServer(t, rec)
	n := webhook.New(webhook.Config{URL: srv.URL, BaseBackoff: time.Minute, Logger: quiet()})
	if err := n.Notify(context.Background(), note); err != nil {
		t.Fatalf("notify: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := n.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("close: got %v, want DeadlineExceeded", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("close took %v, want about the deadline", d)
	}
	if got := n.Stats(); got.Failed != 1 || got.Delivered != 0 {
		t.Errorf("stats: got %+v, want 1 failed", got)
	}
	if err := n.Notify(context.Background(), note); !errors.Is(err, webhook.ErrClosed) {
		t.Errorf("notify after close: got %v, want ErrClosed", err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Errorf("second close: %v", err)
	}
}

func TestNotifierWithoutURL(t *testing.T) {
	n := webhook.New(webhook.Config{Logger: quiet()})
	defer mustClose(t, n)
	if err := n.Notify(context.Background(), note); !errors.Is(err, webhook.ErrNoURL) {
		t.Errorf("notify: got %v, want ErrNoURL", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"user_id":"u"}`)
	ts := "1800000000"
	good := webhook.Sign("k", ts, body)
	for _, tc := range []struct {
		name, secret, ts, sig string
		body                  []byte
		now                   time.Time
		want                  error
	}{
		{"good", "k", ts, good, body, now, nil},
		{"wrong secret", "other", ts, good, body, now, webhook.ErrBadSignature},
		{"body changed", "k", ts, good, []byte(`{"user_id":"v"}`), now, webhook.ErrBadSignature},
		{"timestamp changed", "k", "1800000001", good, body, now, webhook.ErrBadSignature},
		{"replayed later", "k", ts, good, body, now.Add(6 * time.Minute), webhook.ErrStaleTimestamp},
		{"from the future", "k", ts, good, body, now.Add(-6 * time.Minute), webhook.ErrStaleTimestamp},
		{"no timestamp", "k", "", good, body, now, webhook.ErrStaleTimestamp},
		{"no signature", "k", ts, "", body, now, webhook.ErrBadSignature},
		{"bare hex", "k", ts, good[len("sha256="):], body, now, webhook.ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := webhook.Verify(tc.secret, tc.ts, tc.sig, tc.body, tc.now, 5*time.Minute); !errors.Is(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
