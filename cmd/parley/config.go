package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Config is every setting of the parley binary. Each field comes from a flag
// or, when the flag is not given, from its PARLEY_* environment variable,
// else its default. Components receive plain structs built from it.
type Config struct {
	Addr      string // listen address of the HTTP/WebSocket server
	PublicURL string // base URL clients reach this node at (signed dev URLs)
	DataDir   string // dev mode: SQLite file, blobs, secrets

	DatabaseURL string
	RedisURL    string
	JWTSecret   string

	AdminUsername string
	AdminPassword string
	// AdminPromoteExisting lets AdminUsername promote an account that
	// exists and is not an admin.
	AdminPromoteExisting bool
	// MetricsToken guards /metrics on the chat listener (bearer).
	MetricsToken string
	// PprofAddr, when set, is the loopback address of net/http/pprof.
	PprofAddr string
	// GroupCommit stores concurrent sends in one transaction per batch;
	// GroupCommitLinger is how long a batch waits for more (0: it does not).
	GroupCommit       bool
	GroupCommitLinger time.Duration
	// MemberCacheTTL and MemberCacheSize bound the send path's membership
	// cache (chatcore.ServiceConfig); negative = off.
	MemberCacheTTL  time.Duration
	MemberCacheSize int

	PushWebhookURL string
	Push           PushConfig
	AllowedOrigins []string

	S3Endpoint       string
	S3Bucket         string
	S3AccessKey      string
	S3SecretKey      string
	S3Region         string
	S3UseTLS         bool
	S3PublicEndpoint string

	UploadsPerMinute int
	UploadDailyBytes int64
	// Multipart (resumable) uploads: threshold, part size, maximum age.
	MultipartThreshold int64
	UploadPartSize     int64
	MultipartMaxAge    time.Duration

	AccessTTL time.Duration // access-token lifetime; 0 = 15 min
	AccessLog bool          // one info line per HTTP request
	Web       bool          // serve the web client at / (dev: always)

	AuthPerMinute     int  // per client IP; negative = off
	MessagesPerSecond int  // per user; negative = off
	TrustForwardedFor bool // behind a proxy that appends X-Forwarded-For

	MaxSocketsPerUser  int // live sockets per user, all nodes; 0 = 10, negative = no cap
	MaxUnfinishedConns int // connections without a complete request; 0 = 1024, negative = no bound
	MaxConnsPerIP      int // open connections per client address; 0 = no cap (behind a proxy)

	WorkerConcurrency int
	WorkerQueues      map[string]int
	WorkerMaxRetry    int
	StuckAfter        time.Duration
	MetricsAddr       string // worker: where /metrics is served
	// KeepOriginalMetadata serves originals as uploaded (EXIF, GPS and
	// all) instead of stripped copies.
	KeepOriginalMetadata bool
	// MediaRetention expires attachments older than this (0: keep forever).
	MediaRetention time.Duration
	// SyncRetention is how long a sync cursor stays valid (0: 30 days).
	SyncRetention time.Duration
	// EditWindow, AttachmentDeleteGrace and AttachmentSweepInterval: see
	// chatcore.ServiceConfig (0: its defaults).
	EditWindow              time.Duration
	AttachmentDeleteGrace   time.Duration
	AttachmentSweepInterval time.Duration
	// DeletedUsernameHold and KeepDeletedMessages configure account
	// deletion (chatcore.AccountConfig).
	DeletedUsernameHold time.Duration
	KeepDeletedMessages bool

	AutoMigrate     bool
	ShutdownTimeout time.Duration
	LogLevel        string
}

// env reads PARLEY_<name>.
func env(name, def string) string {
	if v, ok := os.LookupEnv("PARLEY_" + name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	v := env(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: PARLEY_%s=%q is not a duration; using %s\n", name, v, def)
		return def
	}
	return d
}

// parseQueues reads "voice=6,image=4,file=2,video=1".
func parseQueues(s string) (map[string]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(w)
		if !ok || name == "" || err != nil || n < 1 {
			return nil, fmt.Errorf("queue weight %q: want name=positive-integer", part)
		}
		out[name] = n
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// flagSet is a subcommand's flags bound to a Config.
type flagSet struct {
	*flag.FlagSet
	cfg     *Config
	queues  *string
	origins *string
	envFlag map[string]string
}

// secretSetting is a setting read only from the environment (never a flag:
// command lines show in ps and shell history), listed in -h.
type secretSetting struct{ env, usage string }

// newFlags binds the settings subcommand name uses to cfg: a flag for each
// (defaulting to its PARLEY_* variable), and secrets from the environment
// only. Settings a subcommand does not use are neither flags nor listed in
// its -h. defAddr differs: dev listens on loopback.
func newFlags(name string, cfg *Config, defAddr string) *flagSet {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	// envFlag maps a flag to the PARLEY_* variable that sets it when the
	// flag is not given; -h shows the built-in defaults, never the values
	// in the environment (they may hold credentials).
	envFlag := map[string]string{}
	uses := func(cmds ...string) bool { return slices.Contains(cmds, name) }
	var secrets []secretSetting
	secret := func(dst *string, envName, usage string) {
		*dst = env(envName, "")
		secrets = append(secrets, secretSetting{"PARLEY_" + envName, usage})
	}

	if uses("dev", "serve") {
		envFlag["addr"] = "ADDR"
		fs.StringVar(&cfg.Addr, "addr", defAddr, "HTTP/WebSocket listen `address` (PARLEY_ADDR)")
		envFlag["public-url"] = "PUBLIC_URL"
		fs.StringVar(&cfg.PublicURL, "public-url", "", "base `URL` clients use to reach this server (PARLEY_PUBLIC_URL; default http://ADDR)")
	} else {
		cfg.Addr = defAddr
	}
	if uses("dev", "migrate") {
		envFlag["data"] = "DATA_DIR"
		fs.StringVar(&cfg.DataDir, "data", "./data", "dev mode data `directory`: SQLite file, blobs, generated secrets (PARLEY_DATA_DIR)")
	}
	if uses("serve", "worker", "migrate") {
		envFlag["database-url"] = "DATABASE_URL"
		fs.StringVar(&cfg.DatabaseURL, "database-url", "", "postgres://user:pass@host:5432/db (PARLEY_DATABASE_URL)")
	}
	if uses("serve", "worker") {
		envFlag["redis-url"] = "REDIS_URL"
		fs.StringVar(&cfg.RedisURL, "redis-url", "", "redis://host:6379/0 or redis-sentinel://s1:26379,s2:26379/mymaster/0 (PARLEY_REDIS_URL)")
		envFlag["migrate"] = "AUTO_MIGRATE"
		fs.BoolVar(&cfg.AutoMigrate, "migrate", true, "apply database migrations at start (PARLEY_AUTO_MIGRATE)")
	}
	envFlag["log-level"] = "LOG_LEVEL"
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	if uses("dev", "serve", "worker") {
		envFlag["shutdown-timeout"] = "SHUTDOWN_TIMEOUT"
		fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long SIGTERM waits for in-flight work (PARLEY_SHUTDOWN_TIMEOUT)")
	} else {
		cfg.ShutdownTimeout = envDuration("SHUTDOWN_TIMEOUT", 20*time.Second)
	}

	// Chat node settings.
	origins := new(string)
	if uses("dev", "serve") {
		if name == "dev" {
			secret(&cfg.JWTSecret, "JWT_SECRET", "HMAC key for access tokens, 32+ bytes (dev: generated into -data when unset)")
		} else {
			secret(&cfg.JWTSecret, "JWT_SECRET", "HMAC key for access tokens, 32+ bytes (required: openssl rand -hex 32)")
		}
		envFlag["media-retention"] = "MEDIA_RETENTION"
		fs.DurationVar(&cfg.MediaRetention, "media-retention", 0, "expire attachments older than this, deleting their objects, e.g. 2160h (PARLEY_MEDIA_RETENTION; 0 = keep forever)")
		envFlag["sync-retention"] = "SYNC_RETENTION"
		fs.DurationVar(&cfg.SyncRetention, "sync-retention", 0, "how long a sync cursor stays valid; older ones get 410 and the device starts again (PARLEY_SYNC_RETENTION; 0 = 720h)")
		envFlag["edit-window"] = "EDIT_WINDOW"
		fs.DurationVar(&cfg.EditWindow, "edit-window", 0, "how long after sending a sender may edit a message (PARLEY_EDIT_WINDOW; 0 = 48h)")
		envFlag["attachment-delete-grace"] = "ATTACHMENT_DELETE_GRACE"
		fs.DurationVar(&cfg.AttachmentDeleteGrace, "attachment-delete-grace", 0, "how long the objects of a deleted message's attachments stay before they are deleted (PARLEY_ATTACHMENT_DELETE_GRACE; 0 = 24h)")
		envFlag["attachment-sweep-interval"] = "ATTACHMENT_SWEEP_INTERVAL"
		fs.DurationVar(&cfg.AttachmentSweepInterval, "attachment-sweep-interval", 0, "how often a node deletes the objects whose grace has passed (PARLEY_ATTACHMENT_SWEEP_INTERVAL; 0 = 1m)")
		envFlag["deleted-username-hold"] = "DELETED_USERNAME_HOLD"
		fs.DurationVar(&cfg.DeletedUsernameHold, "deleted-username-hold", chatcore.DefaultUsernameHold, "a deleted account's username stays reserved this long (PARLEY_DELETED_USERNAME_HOLD)")
		envFlag["keep-deleted-messages"] = "KEEP_DELETED_MESSAGES"
		fs.BoolVar(&cfg.KeepDeletedMessages, "keep-deleted-messages", false, "keep a deleted account's messages, shown from \"Deleted account\" (off: they become tombstones) (PARLEY_KEEP_DELETED_MESSAGES)")
		envFlag["admin-username"] = "ADMIN_USERNAME"
		fs.StringVar(&cfg.AdminUsername, "admin-username", "", "this account exists with role admin at start, with PARLEY_ADMIN_PASSWORD (PARLEY_ADMIN_USERNAME)")
		secret(&cfg.AdminPassword, "ADMIN_PASSWORD", "password of -admin-username")
		secret(&cfg.MetricsToken, "METRICS_TOKEN", "bearer token /metrics requires on the public listener (empty: /metrics is open; set it, or block /metrics at the proxy)")
		envFlag["pprof-addr"] = "PPROF_ADDR"
		fs.StringVar(&cfg.PprofAddr, "pprof-addr", "", "loopback `address` of /debug/pprof/ (PARLEY_PPROF_ADDR, e.g. 127.0.0.1:6060; empty = off)")
		envFlag["group-commit"] = "GROUP_COMMIT"
		fs.BoolVar(&cfg.GroupCommit, "group-commit", true, "store sends arriving together in one transaction, acked after its commit (PARLEY_GROUP_COMMIT; false = one transaction per message)")
		envFlag["group-commit-linger"] = "GROUP_COMMIT_LINGER"
		fs.DurationVar(&cfg.GroupCommitLinger, "group-commit-linger", 0, "how long a batch waits for more sends before it commits (PARLEY_GROUP_COMMIT_LINGER; 0 = no wait: a batch is what arrived during the previous commit)")
		envFlag["member-cache-ttl"] = "MEMBER_CACHE_TTL"
		fs.DurationVar(&cfg.MemberCacheTTL, "member-cache-ttl", 0, "longest a node reuses a conversation's member list for sends; changes drop it at once on every node (PARLEY_MEMBER_CACHE_TTL; 0 = 5s, negative = no cache)")
		envFlag["member-cache-size"] = "MEMBER_CACHE_SIZE"
		fs.IntVar(&cfg.MemberCacheSize, "member-cache-size", 0, "most (conversation, sender) member lists a node keeps (PARLEY_MEMBER_CACHE_SIZE; 0 = 100000, negative = no cache)")
		envFlag["admin-promote-existing"] = "ADMIN_PROMOTE_EXISTING"
		fs.BoolVar(&cfg.AdminPromoteExisting, "admin-promote-existing", false, "let -admin-username promote an existing non-admin account (off: start fails, since whoever registered the name first would become admin) (PARLEY_ADMIN_PROMOTE_EXISTING)")
		envFlag["push-webhook-url"] = "PUSH_WEBHOOK_URL"
		fs.StringVar(&cfg.PushWebhookURL, "push-webhook-url", "", "POST push wake-ups for offline members to this `URL` (PARLEY_PUSH_WEBHOOK_URL; empty = off)")
		secret(&cfg.Push.WebhookSecret, "PUSH_WEBHOOK_SECRET", "signs each push webhook POST (X-Parley-Timestamp, X-Parley-Signature)")
		pf := func(name, envName string, dst *string, usage string) {
			envFlag[name] = envName
			fs.StringVar(dst, name, "", usage)
		}
		pf("apns-key-file", "APNS_KEY_FILE", &cfg.Push.APNsKeyFile, "`path` of the .p8 APNs signing key: enables APNs (PARLEY_APNS_KEY_FILE)")
		pf("apns-key-id", "APNS_KEY_ID", &cfg.Push.APNsKeyID, "id of the APNs key (PARLEY_APNS_KEY_ID)")
		pf("apns-team-id", "APNS_TEAM_ID", &cfg.Push.APNsTeamID, "Apple developer team id (PARLEY_APNS_TEAM_ID)")
		pf("apns-topic", "APNS_TOPIC", &cfg.Push.APNsTopic, "bundle id for devices registered without app_id (PARLEY_APNS_TOPIC)")
		pf("apns-host", "APNS_HOST", &cfg.Push.APNsHost, "send every APNs push to this `URL` instead of Apple's (a test server; PARLEY_APNS_HOST)")
		pf("fcm-credentials-file", "FCM_CREDENTIALS_FILE", &cfg.Push.FCMCredentialsFile, "`path` of the Firebase service-account JSON: enables FCM (PARLEY_FCM_CREDENTIALS_FILE)")
		pf("fcm-endpoint", "FCM_ENDPOINT", &cfg.Push.FCMEndpoint, "FCM base `URL` (PARLEY_FCM_ENDPOINT; empty = https://fcm.googleapis.com)")
		pf("fcm-token-url", "FCM_TOKEN_URL", &cfg.Push.FCMTokenURL, "OAuth2 token `URL` (PARLEY_FCM_TOKEN_URL; empty = the key file's token_uri)")
		pf("fcm-channel-id", "FCM_CHANNEL_ID", &cfg.Push.FCMChannelID, "Android notification channel of message pushes (PARLEY_FCM_CHANNEL_ID)")
		pf("gorush-url", "GORUSH_URL", &cfg.Push.GorushURL, "gateway mode: hand every push to the gorush server at this `URL` (PARLEY_GORUSH_URL)")
		envFlag["push-hide-content"] = "PUSH_HIDE_CONTENT"
		fs.BoolVar(&cfg.Push.HideContent, "push-hide-content", false, "alerts say \"New message\" with no sender or text (PARLEY_PUSH_HIDE_CONTENT)")
		envFlag["push-coalesce-window"] = "PUSH_COALESCE_WINDOW"
		fs.DurationVar(&cfg.Push.Window, "push-coalesce-window", 0, "per-user push coalescing window (PARLEY_PUSH_COALESCE_WINDOW; 0 = 2s)")
		envFlag["push-workers"] = "PUSH_WORKERS"
		fs.IntVar(&cfg.Push.Workers, "push-workers", 0, "push deliveries at once per node (PARLEY_PUSH_WORKERS; 0 = 8)")
		envFlag["allowed-origins"] = "ALLOWED_ORIGINS"
		fs.StringVar(origins, "allowed-origins", "", "comma-separated browser origins allowed on the WebSocket (PARLEY_ALLOWED_ORIGINS; empty = same host)")
		envFlag["uploads-per-minute"] = "UPLOADS_PER_MINUTE"
		fs.IntVar(&cfg.UploadsPerMinute, "uploads-per-minute", 0, "per-user upload requests per minute, per node (PARLEY_UPLOADS_PER_MINUTE; 0 = 30, negative = off)")
		envFlag["upload-daily-bytes"] = "UPLOAD_DAILY_BYTES"
		fs.Int64Var(&cfg.UploadDailyBytes, "upload-daily-bytes", 0, "per-user declared upload bytes per UTC day (PARLEY_UPLOAD_DAILY_BYTES; 0 = 2 GiB, negative = off)")
		envFlag["multipart-threshold"] = "MULTIPART_THRESHOLD"
		fs.Int64Var(&cfg.MultipartThreshold, "multipart-threshold", 0, "uploads declaring more bytes are multipart and resumable (PARLEY_MULTIPART_THRESHOLD; 0 = 16 MiB, negative = never)")
		envFlag["upload-part-size"] = "UPLOAD_PART_SIZE"
		fs.Int64Var(&cfg.UploadPartSize, "upload-part-size", 0, "part size of multipart uploads, 5 MiB..5 GiB (PARLEY_UPLOAD_PART_SIZE; 0 = 8 MiB)")
		envFlag["multipart-max-age"] = "MULTIPART_MAX_AGE"
		fs.DurationVar(&cfg.MultipartMaxAge, "multipart-max-age", 0, "how long a multipart upload can be resumed after it was created (PARLEY_MULTIPART_MAX_AGE; 0 = 24h)")
		envFlag["auth-per-minute"] = "AUTH_PER_MINUTE"
		fs.IntVar(&cfg.AuthPerMinute, "auth-per-minute", 0, "login/register/refresh requests per client IP per minute (PARLEY_AUTH_PER_MINUTE; 0 = 20, negative = off)")
		envFlag["messages-per-second"] = "MESSAGES_PER_SECOND"
		fs.IntVar(&cfg.MessagesPerSecond, "messages-per-second", 0, "sends per user per second (PARLEY_MESSAGES_PER_SECOND; 0 = 20, negative = off)")
		envFlag["access-ttl"] = "ACCESS_TTL"
		fs.DurationVar(&cfg.AccessTTL, "access-ttl", 0, "access-token lifetime (PARLEY_ACCESS_TTL; 0 = 15m)")
		envFlag["access-log"] = "ACCESS_LOG"
		fs.BoolVar(&cfg.AccessLog, "access-log", true, "log one info line per HTTP request: method, route, status, duration_ms, bytes, request_id, user_id (PARLEY_ACCESS_LOG)")
		envFlag["trust-forwarded-for"] = "TRUST_FORWARDED_FOR"
		fs.BoolVar(&cfg.TrustForwardedFor, "trust-forwarded-for", false, "take the client IP from the last X-Forwarded-For entry, behind a proxy that appends it (PARLEY_TRUST_FORWARDED_FOR)")
		envFlag["max-sockets-per-user"] = "MAX_SOCKETS_PER_USER"
		fs.IntVar(&cfg.MaxSocketsPerUser, "max-sockets-per-user", 0, "live WebSockets per user across all nodes; one more closes the oldest with 4008 (PARLEY_MAX_SOCKETS_PER_USER; 0 = 10, negative = no cap)")
		envFlag["max-unfinished-conns"] = "MAX_UNFINISHED_CONNS"
		fs.IntVar(&cfg.MaxUnfinishedConns, "max-unfinished-conns", 0, "connections whose request headers or body are not complete; past it the oldest is closed (PARLEY_MAX_UNFINISHED_CONNS; 0 = 1024, negative = no bound)")
		envFlag["max-conns-per-ip"] = "MAX_CONNS_PER_IP"
		fs.IntVar(&cfg.MaxConnsPerIP, "max-conns-per-ip", 0, "open connections per client address; more are closed at once (PARLEY_MAX_CONNS_PER_IP; 0 = no cap: leave it off behind a proxy, where every client shares its address)")
	}

	if uses("serve") {
		envFlag["web"] = "WEB"
		fs.BoolVar(&cfg.Web, "web", false, "serve the web client at / (PARLEY_WEB; dev always does)")
	}

	// Object storage (dev keeps blobs under -data).
	if uses("serve", "worker") {
		envFlag["s3-endpoint"] = "S3_ENDPOINT"
		fs.StringVar(&cfg.S3Endpoint, "s3-endpoint", "", "`host:port` of the S3 service (PARLEY_S3_ENDPOINT; serve: uploads off without it)")
		envFlag["s3-bucket"] = "S3_BUCKET"
		fs.StringVar(&cfg.S3Bucket, "s3-bucket", "parley", "bucket, created if missing (PARLEY_S3_BUCKET)")
		envFlag["s3-region"] = "S3_REGION"
		fs.StringVar(&cfg.S3Region, "s3-region", "us-east-1", "region used for signing (PARLEY_S3_REGION)")
		envFlag["s3-use-tls"] = "S3_USE_TLS"
		fs.BoolVar(&cfg.S3UseTLS, "s3-use-tls", false, "https to the S3 endpoint (PARLEY_S3_USE_TLS)")
		envFlag["s3-public-endpoint"] = "S3_PUBLIC_ENDPOINT"
		fs.StringVar(&cfg.S3PublicEndpoint, "s3-public-endpoint", "", "`host:port` phones use for presigned URLs, if not -s3-endpoint (PARLEY_S3_PUBLIC_ENDPOINT)")
		envFlag["s3-access-key"] = "S3_ACCESS_KEY"
		fs.StringVar(&cfg.S3AccessKey, "s3-access-key", "", "access key id (PARLEY_S3_ACCESS_KEY)")
		secret(&cfg.S3SecretKey, "S3_SECRET_KEY", "secret access key of -s3-access-key")
	}

	// Media workers (dev runs one in process).
	queues := new(string)
	if uses("dev", "worker") {
		envFlag["concurrency"] = "WORKER_CONCURRENCY"
		fs.IntVar(&cfg.WorkerConcurrency, "concurrency", 0, "media jobs run at once per worker (PARLEY_WORKER_CONCURRENCY; 0 = number of CPUs)")
		envFlag["queues"] = "WORKER_QUEUES"
		fs.StringVar(queues, "queues", "", "queue `weights`, e.g. voice=6,image=4,file=2,video=1 (PARLEY_WORKER_QUEUES)")
		envFlag["stuck-after"] = "STUCK_AFTER"
		fs.DurationVar(&cfg.StuckAfter, "stuck-after", 0, "the reconciler re-enqueues attachments processing this long with no live task (PARLEY_STUCK_AFTER; 0 = 10m)")
		envFlag["keep-original-metadata"] = "KEEP_ORIGINAL_METADATA"
		fs.BoolVar(&cfg.KeepOriginalMetadata, "keep-original-metadata", false, "serve originals as uploaded, EXIF and location included, instead of stripped copies (PARLEY_KEEP_ORIGINAL_METADATA)")
	}
	if uses("dev", "serve", "worker") {
		envFlag["max-retry"] = "WORKER_MAX_RETRY"
		fs.IntVar(&cfg.WorkerMaxRetry, "max-retry", 0, "media job retries before it is archived; set the same on chat nodes and workers (PARLEY_WORKER_MAX_RETRY; 0 = 8)")
	}
	if uses("worker") {
		envFlag["metrics-addr"] = "METRICS_ADDR"
		fs.StringVar(&cfg.MetricsAddr, "metrics-addr", "127.0.0.1:9091", "`address` of /metrics and /healthz (PARLEY_METRICS_ADDR; empty = off)")
	}

	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: parley %s [flags]\n\nEvery flag defaults to its PARLEY_* environment variable.\n\nflags:\n", name)
		fs.PrintDefaults()
		if len(secrets) > 0 {
			fmt.Fprintf(w, "\nsecrets (environment only):\n")
			for _, s := range secrets {
				fmt.Fprintf(w, "  %s\n    \t%s\n", s.env, s.usage)
			}
		}
	}
	return &flagSet{FlagSet: fs, cfg: cfg, queues: queues, origins: origins, envFlag: envFlag}
}

// parse parses args, then the values that need it after parsing.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, envName := range fs.envFlag {
		if v := env(envName, ""); v != "" && !given[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("PARLEY_%s=%q: %v", envName, v, err)
			}
		}
	}
	cfg := fs.cfg
	q, err := parseQueues(*fs.queues)
	if err != nil {
		return fmt.Errorf("-queues: %w", err)
	}
	cfg.WorkerQueues = q
	cfg.AllowedOrigins = splitList(*fs.origins)
	if cfg.PublicURL == "" {
		host := cfg.Addr
		if strings.HasPrefix(host, ":") || strings.HasPrefix(host, "0.0.0.0:") {
			host = "127.0.0.1:" + host[strings.LastIndex(host, ":")+1:]
		}
		cfg.PublicURL = "http://" + host
	}
	if _, err := url.Parse(cfg.PublicURL); err != nil {
		return fmt.Errorf("-public-url: %w", err)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return nil
}

// ValidateServe checks what the production shapes (serve, worker) require.
func (c *Config) ValidateServe(needJWT bool) error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("PARLEY_DATABASE_URL (or -database-url) is required: postgres://user:pass@host:5432/db"))
	} else if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("PARLEY_DATABASE_URL must be a postgres:// URL"))
	}
	if c.RedisURL == "" {
		errs = append(errs, errors.New("PARLEY_REDIS_URL (or -redis-url) is required: redis://host:6379/0 or redis-sentinel://s1:26379,s2:26379/mymaster/0"))
	}
	if needJWT && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("PARLEY_JWT_SECRET is required and must be at least 32 bytes (e.g. openssl rand -hex 32)"))
	}
	if c.S3Endpoint != "" && (c.S3AccessKey == "" || c.S3SecretKey == "") {
		errs = append(errs, errors.New("PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY are required with PARLEY_S3_ENDPOINT"))
	}
	if c.SyncRetention < 0 {
		errs = append(errs, errors.New("PARLEY_SYNC_RETENTION must not be negative"))
	}
	errs = append(errs, c.Push.Validate())
	return errors.Join(errs...)
}
