package chatcore

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Defaults for zero ServiceConfig fields.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour
	DefaultTypingTTL  = 6 * time.Second
	// MinJWTSecretBytes is the shortest HS256 secret NewServices accepts.
	MinJWTSecretBytes = 32
	// notifyQueueSize bounds the offline-notification work queued behind
	// Send; when full, Send does the work itself (backpressure, not loss).
	notifyQueueSize = 4096
	// notifyTimeout bounds one background presence lookup plus its Notify calls.
	notifyTimeout = 10 * time.Second
	// publishTimeout bounds one publish to the bus.
	publishTimeout = 5 * time.Second
)

// ServiceConfig is what NewServices needs. Store, Bus, Presence and a
// JWTSecret of at least MinJWTSecretBytes are required; every other zero
// field takes the documented default.
type ServiceConfig struct {
	Store    Store
	Bus      Bus
	Presence Presence
	Notifier Notifier // nil = no push wake-ups
	// Push receives new messages and reads for pushing to devices (a
	// *Pusher); nil = no device pushes. Devices are stored only when Store
	// is also a DeviceStore (both SQL adapters are).
	Push   PushService
	Clock  Clock        // nil = SystemClock{}
	Logger *slog.Logger // nil = slog.Default()

	JWTSecret  []byte        // required, >= 32 bytes
	AccessTTL  time.Duration // zero = 15 min
	RefreshTTL time.Duration // zero = 30 days
	TypingTTL  time.Duration // zero = 6 s: a "start" not renewed turns into a pushed "stop"
	// SyncRetention is how long a sync cursor stays valid; zero =
	// DefaultSyncRetention (30 days).
	SyncRetention time.Duration

	// HashConcurrency bounds concurrent argon2id password hashes (logins,
	// registrations); zero = GOMAXPROCS. HashWait is how long a request
	// waits for a slot before it gets rate_limited; zero = DefaultHashWait.
	HashConcurrency int
	HashWait        time.Duration

	// MaxSocketsPerUser caps a user's live sockets across every node when
	// Presence can tell their order (a SocketCapper, as chatcore/redis
	// is): connecting one more closes the oldest. Zero =
	// DefaultMaxSocketsPerUser; negative = no cap.
	MaxSocketsPerUser int
	// EditWindow is how long after sending a sender may edit a message;
	// zero = DefaultEditWindow.
	EditWindow time.Duration
	// AttachmentObjects deletes the objects of attachments whose last
	// message was deleted, AttachmentDeleteGrace (zero =
	// DefaultAttachmentDeleteGrace) after the deletion, when
	// SweepDeletedAttachments runs. Nil: deletions unlink attachments and
	// their objects stay (until media retention, if any).
	AttachmentObjects     AttachmentObjectDeleter
	AttachmentDeleteGrace time.Duration

	// MemberCacheTTL and MemberCacheSize bound the membership cache of
	// the send path (membercache.go): how long an entry is used at most
	// (zero = DefaultMemberCacheTTL) and how many (conversation, sender)
	// entries a node keeps (zero = DefaultMemberCacheSize). Either
	// negative: no cache, every send reads the members.
	MemberCacheTTL  time.Duration
	MemberCacheSize int

	Hooks Hooks // optional metric callbacks (the domain does not import prometheus)

	// Rand is the source of refresh tokens and password salts; nil =
	// crypto/rand.Reader. Tests inject a deterministic one.
	Rand io.Reader
}

// Hooks are optional metric callbacks; nil fields are not called. They
// must be cheap and must not block: they run on the send and fan-out paths.
type Hooks struct {
	MessageStored func()                // after a message is stored (not on dedup)
	StoreLatency  func(d time.Duration) // a send's append: group-commit wait and commit included
	FanoutLatency func(d time.Duration) // publish → local enqueue, per event delivered on this node
	SlowConsumer  func()                // a client was dropped for not keeping up
}

// Services are Parley's chat services, one per concern, built by
// NewServices over one shared set of dependencies (store, hub and bus,
// presence, notifier, clock, logger). cmd/parley hands each field to
// httpapi.Config; tests and other edges may use any subset. Every field is
// safe for concurrent use.
type Services struct {
	Auth          AuthService
	Users         UserService
	Conversations ConversationService
	Messages      MessageService
	Receipts      ReceiptService
	Typing        TypingService
	Presence      PresenceService
	Search        SearchService
	Sync          SyncService
	// Edits reads single messages, edits, deletes and reacts to them.
	Edits MessageEditService
	// Devices registers push devices and notification settings; nil when
	// the Store keeps no devices.
	Devices DeviceService
	// Blocks, Reports and Moderation are the safety services (blocks and
	// group-add settings, reports, disabling accounts); nil when the Store
	// keeps no blocks, reports or moderation state.
	Blocks     BlockService
	Reports    ReportService
	Moderation ModerationService
	// Hub fans frames out to this node's sockets; the WebSocket handler
	// registers its clients here.
	Hub *Hub

	deps   *deps
	syncer *syncService
	edits  *messageEditService
	close  func()
}

// deps is what every service shares. Each service embeds a *deps and adds
// only its own state; a service that needs another one holds its interface.
type deps struct {
	store    Store
	presence Presence
	notifier Notifier
	push     PushService // nil: no device pushes
	devices  DeviceStore // nil: the store keeps no devices
	blocks   BlockStore  // nil: the store keeps no blocks (nothing is blocked)
	clock    Clock
	log      *slog.Logger
	rand     io.Reader
	hub      *Hub
	hooks    Hooks
	typing   *typingTracker // shared: conversations and presence stop typing too
	members  *memberCache   // nil: none (every send reads the members)
	// maxSockets is the socket cap per user (0: none); see ServiceConfig.
	maxSockets int
}

// NewServices checks cfg and builds every chat service. Call Run to receive
// bus events on this node and Close when done.
//
// A new concern (devices, reactions, search…) adds its interface and
// implementation in its own files, a field above, and one line below.
func NewServices(cfg ServiceConfig) (*Services, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("chatcore: service config: Store is required")
	case cfg.Bus == nil:
		return nil, errors.New("chatcore: service config: Bus is required")
	case cfg.Presence == nil:
		return nil, errors.New("chatcore: service config: Presence is required")
	case len(cfg.JWTSecret) < MinJWTSecretBytes:
		return nil, fmt.Errorf("chatcore: service config: JWTSecret must be at least %d bytes", MinJWTSecretBytes)
	case cfg.AccessTTL < 0 || cfg.RefreshTTL < 0 || cfg.TypingTTL < 0 || cfg.SyncRetention < 0:
		return nil, errors.New("chatcore: service config: negative TTL")
	case cfg.EditWindow < 0 || cfg.AttachmentDeleteGrace < 0:
		return nil, errors.New("chatcore: service config: negative edit window or attachment delete grace")
	}
	d := &deps{
		store:    cfg.Store,
		presence: cfg.Presence,
		notifier: cfg.Notifier,
		push:     cfg.Push,
		clock:    cfg.Clock,
		log:      cfg.Logger,
		rand:     cfg.Rand,
		hooks:    cfg.Hooks,
	}
	if d.clock == nil {
		d.clock = SystemClock{}
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.rand == nil {
		d.rand = rand.Reader
	}
	typingTTL := cfg.TypingTTL
	if typingTTL == 0 {
		typingTTL = DefaultTypingTTL
	}
	d.hub = NewHub(cfg.Bus, cfg.Hooks, d.log)
	d.members = newMemberCache(cfg.MemberCacheTTL, cfg.MemberCacheSize, d.clock)
	d.hub.members = d.members
	d.typing = newTypingTracker(typingTTL, d.typingExpired)

	auth, err := newAuthService(d, cfg)
	if err != nil {
		return nil, err
	}
	users := &userService{deps: d}
	msgs := newMessageService(d)
	edits := &messageEditService{deps: d, window: cfg.EditWindow, grace: cfg.AttachmentDeleteGrace, objects: cfg.AttachmentObjects}
	if edits.window == 0 {
		edits.window = DefaultEditWindow
	}
	if edits.grace == 0 {
		edits.grace = DefaultAttachmentDeleteGrace
	}
	s := &Services{
		Auth:          auth,
		Users:         users,
		Conversations: &conversationService{deps: d},
		Messages:      msgs,
		Receipts:      &receiptService{deps: d},
		Typing:        &typingService{deps: d},
		Presence:      &presenceService{deps: d, users: users},
		Search:        &searchService{deps: d},
		Edits:         edits,
		Hub:           d.hub,
		deps:          d,
		edits:         edits,
	}
	if bs, ok := cfg.Store.(BlockStore); ok {
		d.blocks = bs
		s.Blocks = &blockService{deps: d, blocks: bs}
	}
	s.addSafety(cfg)
	s.syncer = &syncService{deps: d, retention: cmp.Or(cfg.SyncRetention, DefaultSyncRetention)}
	s.Sync = s.syncer
	if ds, ok := cfg.Store.(DeviceStore); ok {
		d.devices = ds
		s.Devices = &deviceService{deps: d, devices: ds}
	}
	var once sync.Once
	s.close = func() {
		once.Do(func() {
			d.typing.close()
			msgs.close()
		})
	}
	return s, nil
}

// Run subscribes the hub to the bus and returns when ctx is done. Call it
// once per Services: every subscription delivers every event.
func (s *Services) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.syncer.run(ctx) }() // sync marks and pruning
	err := s.Hub.Run(ctx)
	cancel()
	<-done
	return err
}

// Close stops typing timers and waits for queued offline notifications.
// It is safe to call more than once. Calls made after Close still work,
// with notifications done synchronously.
func (s *Services) Close() error {
	if s.close != nil {
		s.close()
	}
	return nil
}

// newID returns a new time-ordered id.
func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", fmt.Errorf("new id: %w", err)
	}
	return id.String(), nil
}

// internalError wraps an unexpected error with the operation and its
// attributes and returns it; callers see EInternal and no details. It does
// not log: the edge that answers the client (chatcore/httpapi) logs each
// internal error once, with the request id. A domain *Error passes through
// unchanged.
func internalError(op string, err error, attrs ...slog.Attr) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if len(attrs) > 0 {
		var b strings.Builder
		b.WriteString(op)
		for _, a := range attrs {
			fmt.Fprintf(&b, " %s=%s", a.Key, a.Value)
		}
		op = b.String()
	}
	return fmt.Errorf("%s: %w", op, err)
}

// publish sends one frame to recipients through the hub. A failed publish
// is logged, not returned: what it announces is already stored, and
// clients catch up with after= when they reconnect.
func (s *deps) publish(ctx context.Context, recipients []string, frame []byte, op string) {
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
