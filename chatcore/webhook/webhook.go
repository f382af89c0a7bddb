package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Errors returned by Notify.
var (
	// ErrQueueFull: the notification was dropped because the queue is full.
	ErrQueueFull = errors.New("webhook: queue full, notification dropped")
	// ErrClosed: Close has been called.
	ErrClosed = errors.New("webhook: notifier closed")
	// ErrNoURL: Config.URL is empty.
	ErrNoURL = errors.New("webhook: no URL configured")
)

// Config configures a Notifier. Every zero value means the documented default.
type Config struct {
	// URL receives the POSTs. Required.
	URL string
	// Timeout bounds one attempt (connect to end of response). If zero, 5s.
	Timeout time.Duration
	// MaxRetries is how many times a failed delivery is retried after the
	// first attempt. If zero, 5; negative means never retry.
	MaxRetries int
	// BaseBackoff is the wait before the first retry; it doubles after each
	// attempt up to MaxBackoff, and the actual wait is drawn from
	// [backoff/2, backoff] (jitter). If zero, 500ms and 30s.
	BaseBackoff, MaxBackoff time.Duration
	// QueueSize is how many notifications may wait for a worker. If zero, 1024.
	QueueSize int
	// Workers is how many deliveries run at once. If zero, 4.
	Workers int
	// Secret, when set, signs each attempt: X-Parley-Timestamp: <unix
	// seconds> and X-Parley-Signature: sha256=<hex HMAC-SHA256 with Secret
	// of timestamp + "." + body>. Receivers check it with Verify.
	Secret string
	// Now is the clock of the signature's timestamp. If nil, time.Now.
	Now func() time.Time
	// Logger receives drops, failures and give-ups. If nil, slog.Default().
	Logger *slog.Logger
	// HTTPClient sends the requests. If nil, a client with no overall
	// timeout (Timeout applies per attempt).
	HTTPClient *http.Client
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.MaxBackoff < c.BaseBackoff {
		c.MaxBackoff = c.BaseBackoff
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 1024
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Stats are counters since the Notifier was created, for metrics.
type Stats struct {
	Delivered uint64 // accepted with a 2xx
	Failed    uint64 // given up: 4xx, or retries exhausted, or closed mid-retry
	Dropped   uint64 // never queued: queue full
	Retries   uint64 // attempts after the first
}

// Notifier is a chatcore.Notifier that POSTs to a webhook.
type Notifier struct {
	cfg   Config
	log   *slog.Logger
	queue chan chatcore.Notification

	// mu guards closed and sending on queue, so Close never closes the
	// channel under a concurrent Notify.
	mu     sync.RWMutex
	closed bool

	// ctx ends in-flight attempts and backoff waits when Close gives up.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	delivered, failed, dropped, retries atomic.Uint64
}

var _ chatcore.Notifier = (*Notifier)(nil)

// New starts a Notifier's workers. Close stops them.
func New(cfg Config) *Notifier {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	n := &Notifier{
		cfg:    cfg,
		log:    cfg.Logger.With(slog.String("component", "webhook")),
		queue:  make(chan chatcore.Notification, cfg.QueueSize),
		ctx:    ctx,
		cancel: cancel,
	}
	n.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go n.work()
	}
	return n
}

// Notify queues n for delivery and returns at once. It returns ErrQueueFull
// (after logging a warning and counting the drop) when the queue is full,
// ErrClosed after Close and ErrNoURL without a URL. ctx is not used for the delivery, which
// outlives the caller's request.
func (n *Notifier) Notify(ctx context.Context, note chatcore.Notification) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return ErrClosed
	}
	if n.cfg.URL == "" {
		return ErrNoURL
	}
	select {
	case n.queue <- note:
		return nil
	default:
	}
	total := n.dropped.Add(1)
	n.log.WarnContext(ctx, "webhook queue full, dropping notification",
		slog.String("user_id", note.UserID),
		slog.String("conversation_id", note.ConversationID),
		slog.Int64("seq", note.Seq),
		slog.Uint64("dropped_total", total))
	return ErrQueueFull
}

// Close stops accepting notifications and delivers those already queued,
// retries included, until ctx is done; then it abandons the rest and
// returns ctx's error. It is safe to call more than once.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()

	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		if left := len(n.queue); left > 0 {
			n.log.Warn("webhook closed with notifications undelivered", slog.Int("count", left))
		}
		return fmt.Errorf("close webhook notifier: %w", ctx.Err())
	}
}

// Stats returns the Notifier's counters.
func (n *Notifier) Stats() Stats {
	return Stats{
		Delivered: n.delivered.Load(),
		Failed:    n.failed.Load(),
		Dropped:   n.dropped.Load(),
		Retries:   n.retries.Load(),
	}
}

func (n *Notifier) work() {
	defer n.wg.Done()
	for note := range n.queue {
		if n.ctx.Err() != nil {
			continue // Close gave up: drain without sending.
		}
		n.deliver(note)
	}
}

// deliver sends one notification, retrying as configured.
func (n *Notifier) deliver(note chatcore.Notification) {
	body, err := json.Marshal(note)
	if err != nil {
		n.failed.Add(1)
		n.log.Error("webhook encode notification", slog.Any("error", err))
		return
	}
	attrs := []any{
		slog.String("user_id", note.UserID),
		slog.String("conversation_id", note.ConversationID),
		slog.Int64("seq", note.Seq),
	}
	backoff := n.cfg.BaseBackoff
	for attempt := 1; ; attempt++ {
		retryAfter, err := n.post(note, body)
		if err == nil {
			n.delivered.Add(1)
			return
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			n.failed.Add(1)
			n.log.Warn("webhook rejected notification", append(attrs, slog.Any("error", err))...)
			return
		}
		if attempt > n.cfg.MaxRetries {
			n.failed.Add(1)
			n.log.Warn("webhook gave up", append(attrs, slog.Int("attempts", attempt), slog.Any("error", err))...)
			return
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if retryAfter > wait {
			wait = min(retryAfter, n.cfg.MaxBackoff)
		}
		backoff = min(2*backoff, n.cfg.MaxBackoff)
		n.log.Debug("webhook attempt failed", append(attrs, slog.Int("attempt", attempt),
			slog.Int64("retry_in_ms", wait.Milliseconds()), slog.Any("error", err))...)
		t := time.NewTimer(wait)
		select {
		case <-n.ctx.Done():
			t.Stop()
			n.failed.Add(1)
			n.log.Warn("webhook abandoned at close", append(attrs, slog.Int("attempts", attempt))...)
			return
		case <-t.C:
		}
		n.retries.Add(1)
	}
}

// permanentError is a failure not worth retrying: a 4xx other than 408 and
// 429, an unexpected 1xx/3xx, or a request that cannot be built.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// post makes one attempt. It returns the server's Retry-After, if any.
func (n *Notifier) post(note chatcore.Notification, body []byte) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &permanentError{fmt.Errorf("build request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "parley-webhook/1")
	req.Header.Set("Idempotency-Key", note.ConversationID+":"+strconv.FormatInt(note.Seq, 10)+":"+note.UserID)
	if n.cfg.Secret != "" {
		ts := strconv.FormatInt(n.cfg.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(n.cfg.Secret, ts, body))
	}
	resp, err := n.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return 0, nil
	case s >= 500 || s == http.StatusTooManyRequests || s == http.StatusRequestTimeout:
		return chatcore.RetryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("status %d", s)
	default:
		return 0, &permanentError{fmt.Errorf("status %d", s)}
	}
}
