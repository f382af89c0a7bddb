package chatcore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Defaults for zero ServiceConfig fields.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour
	DefaultTypingTTL  = 6 * time.Second
	// MinJWTSecretBytes is the shortest HS256 secret NewService accepts.
	MinJWTSecretBytes = 32
	// notifyQueueSize bounds the offline-notification work queued behind
	// Send; when full, Send does the work itself (backpressure, not loss).
	notifyQueueSize = 4096
	// notifyTimeout bounds one background presence lookup plus its Notify calls.
	notifyTimeout = 10 * time.Second
	// publishTimeout bounds one publish to the bus.
	publishTimeout = 5 * time.Second
)

// ServiceConfig is what NewService needs. Store, Bus, Presence and a
// JWTSecret of at least MinJWTSecretBytes are required; every other zero
// field takes the documented default.
type ServiceConfig struct {
	Store    Store
	Bus      Bus
	Presence Presence
	Notifier Notifier     // nil = no push wake-ups
	Clock    Clock        // nil = SystemClock{}
	Logger   *slog.Logger // nil = slog.Default()

	JWTSecret  []byte        // required, >= 32 bytes
	AccessTTL  time.Duration // zero = 15 min
	RefreshTTL time.Duration // zero = 30 days
	TypingTTL  time.Duration // zero = 6 s: a "start" not renewed turns into a pushed "stop"

	Hooks Hooks // optional metric callbacks (the domain does not import prometheus)

	// Rand is the source of refresh tokens and password salts; nil =
	// crypto/rand.Reader. Tests inject a deterministic one.
	Rand io.Reader
}

// Hooks are optional metric callbacks; nil fields are not called. They
// must be cheap and must not block: they run on the send and fan-out paths.
type Hooks struct {
	MessageStored func()                // after a message is stored (not on dedup)
	FanoutLatency func(d time.Duration) // publish → local enqueue, per event delivered on this node
	SlowConsumer  func()                // a client was dropped for not keeping up
}

// Service is Parley's chat logic: accounts and sessions, conversations,
// messages, receipts, typing and presence. It stores through Store, pushes
// every real-time frame through the Hub (and so the Bus, to every node) and
// wakes offline members through the Notifier. It is safe for concurrent use.
type Service struct {
	store    Store
	presence Presence
	notifier Notifier
	clock    Clock
	log      *slog.Logger
	rand     io.Reader
	hub      *Hub

	jwtSecret  []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	hooks      Hooks

	pw        argonParams // cost of new password hashes
	dummyHash string      // compared against for unknown usernames

	typing *typingTracker

	// Offline notifications run behind Send so a presence lookup and the
	// Notifier never add to a sender's latency.
	notifyMu     sync.RWMutex
	notifyClosed bool
	notifyQ      chan notifyJob
	notifyDone   chan struct{}

	closeOnce sync.Once
}

// NewService checks cfg and returns a Service. Call Run to receive bus
// events on this node and Close when done.
func NewService(cfg ServiceConfig) (*Service, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("chatcore: service config: Store is required")
	case cfg.Bus == nil:
		return nil, errors.New("chatcore: service config: Bus is required")
	case cfg.Presence == nil:
		return nil, errors.New("chatcore: service config: Presence is required")
	case len(cfg.JWTSecret) < MinJWTSecretBytes:
		return nil, fmt.Errorf("chatcore: service config: JWTSecret must be at least %d bytes", MinJWTSecretBytes)
	case cfg.AccessTTL < 0 || cfg.RefreshTTL < 0 || cfg.TypingTTL < 0:
		return nil, errors.New("chatcore: service config: negative TTL")
	}
	s := &Service{
		store:      cfg.Store,
		presence:   cfg.Presence,
		notifier:   cfg.Notifier,
		clock:      cfg.Clock,
		log:        cfg.Logger,
		rand:       cfg.Rand,
		jwtSecret:  append([]byte(nil), cfg.JWTSecret...),
		accessTTL:  cfg.AccessTTL,
		refreshTTL: cfg.RefreshTTL,
		hooks:      cfg.Hooks,
		pw:         defaultArgonParams(),
		notifyQ:    make(chan notifyJob, notifyQueueSize),
		notifyDone: make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = SystemClock{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.accessTTL == 0 {
		s.accessTTL = DefaultAccessTTL
	}
	if s.refreshTTL == 0 {
		s.refreshTTL = DefaultRefreshTTL
	}
	typingTTL := cfg.TypingTTL
	if typingTTL == 0 {
		typingTTL = DefaultTypingTTL
	}
	s.hub = NewHub(cfg.Bus, cfg.Hooks, s.log)
	s.typing = newTypingTracker(typingTTL, s.typingExpired)
	dummy, err := s.hashPassword("parley-dummy-password")
	if err != nil {
		return nil, fmt.Errorf("chatcore: dummy password hash: %w", err)
	}
	s.dummyHash = dummy
	go s.notifyLoop()
	return s, nil
}

// Run subscribes the hub to the bus and returns when ctx is done. Call it
// once per Service: every subscription delivers every event.
func (s *Service) Run(ctx context.Context) error {
	return s.hub.Run(ctx)
}

// Close stops typing timers and waits for queued offline notifications.
// It is safe to call more than once. Calls made after Close still work,
// with notifications done synchronously.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.typing.close()
		s.notifyMu.Lock()
		s.notifyClosed = true
		close(s.notifyQ)
		s.notifyMu.Unlock()
		<-s.notifyDone
	})
	return nil
}

// Hub returns the service's fan-out hub, where the WebSocket handler
// registers its clients.
func (s *Service) Hub() *Hub { return s.hub }

// newID returns a new time-ordered id.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return id.String(), nil
}

// internal logs an unexpected error once, at the edge of the domain, and
// returns it wrapped so that callers see EInternal and no details.
func (s *Service) internal(ctx context.Context, op string, err error, attrs ...slog.Attr) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	attrs = append(attrs, slog.String("op", op), slog.Any("error", err))
	s.log.LogAttrs(ctx, slog.LevelError, "chatcore: internal error", attrs...)
	return fmt.Errorf("%s: %w", op, err)
}

// publish sends one frame to recipients through the hub. A failed publish
// is logged, not returned: what it announces is already stored, and
// clients catch up with after= when they reconnect.
func (s *Service) publish(ctx context.Context, recipients []string, frame []byte, op string) {
	if len(recipients) == 0 {
		return
	}
	// What is published is already decided (often stored): a caller that
	// hangs up now must not cancel the push to everyone else.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := s.hub.Publish(ctx, Event{Recipients: recipients, Frame: frame}); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: publish failed",
			slog.String("op", op), slog.Int("recipients", len(recipients)), slog.Any("error", err))
	}
}

// without returns ids minus one id, in a new slice.
func without(ids []string, id string) []string {
	out := make([]string, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// contains reports whether ids holds id.
func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
