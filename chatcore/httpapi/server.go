package httpapi

import (
	"context"
	"fmt"
	"github.com/parley-chat/parley/internal/ratelimit"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parley-chat/parley/chatcore"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxFrameBytes   = 64 << 10
	DefaultMaxBodyBytes    = 1 << 20
	DefaultPingInterval    = 25 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultSendBuffer      = 256
	DefaultShutdownMessage = "server shutting down"
	// DefaultBodyReadTimeout bounds reading one REST request body.
	DefaultBodyReadTimeout = 15 * time.Second
)

// RateLimits bounds request rates. A zero field takes the documented default;
// a negative one disables that limit.
type RateLimits struct {
	// AuthPerMinute is the sustained rate of /v1/auth/* requests per client
	// IP, per minute. Default 20, burst AuthBurst (default 10).
	AuthPerMinute float64
	AuthBurst     int
	// MessagesPerSecond is the sustained rate of sends (WebSocket and HTTP)
	// per user, per second. Default 20, burst MessagesBurst (default 40).
	MessagesPerSecond float64
	MessagesBurst     int
	// RequestsPerSecond is the sustained rate of authenticated REST requests
	// per user, per second. Default 50, burst RequestsBurst (default 200, so
	// a reconnecting client can catch up on many conversations at once).
	RequestsPerSecond float64
	RequestsBurst     int
	// FramesPerSecond bounds every other client frame (typing, receipts,
	// ping) per socket. Default 30, burst FramesBurst (default 60).
	FramesPerSecond float64
	FramesBurst     int
	// TypingPerSecond bounds typing frames per user across all their
	// sockets. Default 2, burst TypingBurst (default 10).
	TypingPerSecond float64
	TypingBurst     int
	// GroupsPerHour bounds group creation per user. Default 20, burst
	// GroupsBurst (default 10).
	GroupsPerHour float64
	GroupsBurst   int
	// ReportsPerHour bounds reports filed per user. Default 30, burst
	// ReportsBurst (default 10).
	ReportsPerHour float64
	ReportsBurst   int
}

func (l RateLimits) withDefaults() RateLimits {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.AuthPerMinute, 20)
	defInt(&l.AuthBurst, 10)
	def(&l.MessagesPerSecond, 20)
	defInt(&l.MessagesBurst, 40)
	def(&l.RequestsPerSecond, 50)
	defInt(&l.RequestsBurst, 200)
	def(&l.FramesPerSecond, 30)
	defInt(&l.FramesBurst, 60)
	def(&l.TypingPerSecond, 2)
	defInt(&l.TypingBurst, 10)
	def(&l.GroupsPerHour, 20)
	defInt(&l.GroupsBurst, 10)
	def(&l.ReportsPerHour, 30)
	defInt(&l.ReportsBurst, 10)
	return l
}

// Config configures a Server. The chat services (Auth through Hub, one
// per concern, as chatcore.NewServices builds them) are required; every
// other zero value is a documented default.
type Config struct {
	Auth          chatcore.AuthService
	Users         chatcore.UserService
	Conversations chatcore.ConversationService
	Messages      chatcore.MessageService
	Receipts      chatcore.ReceiptService
	Typing        chatcore.TypingService
	Presence      chatcore.PresenceService
	Search        chatcore.SearchService
	Sync          chatcore.SyncService
	Edits         chatcore.MessageEditService
	// Devices serves /v1/devices and conversation notification settings,
	// and checks ?device_id= on the WebSocket; nil: those routes answer 503
	// and device_id is refused.
	Devices chatcore.DeviceService
	// Blocks, Reports and Moderation serve the safety routes (blocks and
	// safety settings, reports, admin accounts); nil: those routes answer
	// 503.
	Blocks     chatcore.BlockService
	Reports    chatcore.ReportService
	Moderation chatcore.ModerationService
	// Accounts serves password change, sessions, profile, deletion and
	// export under /v1/me, and the admin deletion routes; nil: 503.
	Accounts chatcore.AccountService
	// Hub is where sockets register to receive frames.
	Hub *chatcore.Hub
	// Uploads serves /v1/uploads and /v1/attachments; nil: those routes
	// answer 503 {code: "unavailable"}.
	Uploads chatcore.UploadService
	// Forward serves POST /v1/attachments/{id}/forward; nil: 503.
	Forward chatcore.ForwardService
	// Jobs serves /v1/admin/jobs; nil: those routes answer 503.
	Jobs chatcore.JobService
	// AdminUI (asynqmon, built with RootPath "/admin/queues") is mounted at
	// /admin/queues/ behind the admin check; nil: 404.
	AdminUI http.Handler
	// Mounts are extra unauthenticated handlers by ServeMux pattern (the
	// dev-mode signed blob URLs). A pattern that conflicts with a route makes
	// New fail.
	Mounts map[string]http.Handler
	// Ready reports whether the database and Redis are reachable (/readyz);
	// nil: always ready.
	Ready func(ctx context.Context) error
	// Registry receives the metrics and is served at /metrics; nil: a new
	// registry with the Go and process collectors. Pass the same registry to
	// MetricsHooks so the service's hooks land in it.
	Registry *prometheus.Registry
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// Clock times socket expiry; nil: the system clock. Give it the
	// service's clock so token expiry agrees with Authenticate.
	Clock chatcore.Clock
	// AllowedOrigins are host patterns (path.Match syntax, e.g.
	// "app.example.com", "*.example.com", or "https://app.example.com")
	// allowed to open the WebSocket from a browser and to call the REST API
	// (CORS). Empty: same host only. Requests without an Origin header
	// (native apps) are always allowed.
	AllowedOrigins []string
	// TrustForwardedFor makes the per-IP auth limit use the last address of
	// X-Forwarded-For (set it only behind a proxy that appends it).
	TrustForwardedFor bool
	// SecureCookies marks the admin dashboard cookie Secure even when this
	// node does not terminate TLS itself (set it when the public URL is
	// https, i.e. behind a TLS proxy).
	SecureCookies bool
	// MetricsToken, when set, is the bearer token /metrics requires
	// (Authorization: Bearer …); without it /metrics answers 401. Empty:
	// /metrics is open, so only leave it empty when the public listener is
	// not reachable by clients or a proxy blocks /metrics.
	MetricsToken string
	// NoAccessLog turns off the access log: one info line per request with
	// method, route pattern, status, duration_ms, bytes, request_id and
	// user_id (never the path, query string or headers). Default on.
	NoAccessLog bool

	// MaxFrameBytes is the largest client WebSocket frame; larger closes
	// the socket with 1009. Default 64 KiB.
	MaxFrameBytes int64
	// MaxBodyBytes is the largest REST request body; larger answers 413.
	// Default 1 MiB.
	MaxBodyBytes int64
	// BodyReadTimeout bounds the time to read a request body on every
	// route and mount except the WebSocket (a client that announces a body
	// and never sends it is cut off, so slow-body floods cannot pin
	// connections). A mount expecting large bodies extends its own deadline
	// once it has checked the request (the dev-mode object store does, after
	// the signature and size). Default 15 s.
	BodyReadTimeout time.Duration
	// PingInterval between WebSocket pings (and presence heartbeats); a
	// peer that does not answer within one interval is dropped. Default 25 s.
	PingInterval time.Duration
	// WriteTimeout bounds each WebSocket write. Default 10 s.
	WriteTimeout time.Duration
	// SendBuffer is how many frames may wait for a slow socket before it is
	// kicked (close 1013). Default 256.
	SendBuffer int
	// RateLimits; zero fields take their defaults.
	RateLimits RateLimits
	// Limiters builds the per-IP and per-user limiters; nil = in-process
	// buckets (each node allows the full rate). parley serve keeps them in
	// Redis so that the limits hold across nodes.
	Limiters ratelimit.Factory
}

// checkServices reports the first missing chat service.
func (c Config) checkServices() error {
	for _, f := range []struct {
		name    string
		missing bool
	}{
		{"Auth", c.Auth == nil},
		{"Users", c.Users == nil},
		{"Conversations", c.Conversations == nil},
		{"Messages", c.Messages == nil},
		{"Receipts", c.Receipts == nil},
		{"Typing", c.Typing == nil},
		{"Presence", c.Presence == nil},
		{"Search", c.Search == nil},
		{"Sync", c.Sync == nil},
		{"Edits", c.Edits == nil},
		{"Hub", c.Hub == nil},
	} {
		if f.missing {
			return fmt.Errorf("httpapi: Config.%s is required", f.name)
		}
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = chatcore.SystemClock{}
	}
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.BodyReadTimeout <= 0 {
		c.BodyReadTimeout = DefaultBodyReadTimeout
	}
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.SendBuffer <= 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	c.RateLimits = c.RateLimits.withDefaults()
	return c
}

// Server is the HTTP and WebSocket edge of one chat node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	handler http.Handler
	mux     *http.ServeMux
	routes  []route

	authLimit ratelimit.Limiter // per IP
	msgLimit  ratelimit.Limiter // per user
	reqLimit  ratelimit.Limiter // per user
	// exportLimit bounds GET /v1/me/export per user (account.go).
	exportLimit ratelimit.Limiter

	typingLimit ratelimit.Limiter // per user, every socket
	groupLimit  ratelimit.Limiter // per user: groups created
	reportLimit ratelimit.Limiter // per user: reports filed

	mu      sync.Mutex
	closing bool // Shutdown was called: no new sockets
	conns   map[*wsConn]struct{}
	connsWG sync.WaitGroup // one per socket in conns
}

// New builds a Server from cfg.
func New(cfg Config) (*Server, error) {
	if err := cfg.checkServices(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m, err := NewMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	rl := cfg.RateLimits
	limiter := cfg.Limiters
	if limiter == nil {
		limiter = ratelimit.InProcess
	}
	s := &Server{
		cfg:         cfg,
		log:         cfg.Logger,
		metrics:     m,
		authLimit:   limiter("auth", rl.AuthPerMinute/60, rl.AuthBurst),
		msgLimit:    limiter("msg", rl.MessagesPerSecond, rl.MessagesBurst),
		reqLimit:    limiter("req", rl.RequestsPerSecond, rl.RequestsBurst),
		exportLimit: limiter("export", exportPerHour/3600.0, exportBurst),
		conns:       make(map[*wsConn]struct{}),

		typingLimit: limiter("typing", rl.TypingPerSecond, rl.TypingBurst),
		groupLimit:  limiter("group", rl.GroupsPerHour/3600, rl.GroupsBurst),
		reportLimit: limiter("report", rl.ReportsPerHour/3600, rl.ReportsBurst),
	}
	s.routes = s.routeTable()
	mux, err := s.buildMux()
	if err != nil {
		return nil, err
	}
	s.mux = mux
	s.handler = s.instrument(s.cors(mux))
	if !cfg.NoAccessLog {
		s.handler = s.accessLog(s.handler)
	}
	return s, nil
}

// Handler returns the root handler of every route.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown stops accepting sockets, lets each socket finish the frame it is
// handling and flush what is queued for it, sends close frames (1001 going
// away) and waits for the sockets to end, all within ctx; sockets still open
// when ctx is done are dropped. It does not stop REST requests: call
// http.Server.Shutdown for those.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	for _, c := range conns {
		go c.drainAndClose(closeGoingAway, DefaultShutdownMessage)
	}
	done := make(chan struct{})
	go func() {
		s.connsWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		left := make([]*wsConn, 0, len(s.conns))
		for c := range s.conns {
			left = append(left, c)
		}
		s.mu.Unlock()
		for _, c := range left {
			c.closeNow()
		}
		return fmt.Errorf("httpapi: shutdown: dropped %d sockets still open: %w", len(left), ctx.Err())
	}
}

// addConn registers a socket unless the server is shutting down.
func (s *Server) addConn(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.connsWG.Add(1)
	return true
}

func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.connsWG.Done()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}
