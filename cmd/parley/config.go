package main

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
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

	PushWebhookURL string
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

	AccessTTL time.Duration // access-token lifetime; 0 = 15 min
	Web       bool          // serve the web client at / (dev: always)

	AuthPerMinute     int  // per client IP; negative = off
	MessagesPerSecond int  // per user; negative = off
	TrustForwardedFor bool // behind a proxy that appends X-Forwarded-For

	WorkerConcurrency int
	WorkerQueues      map[string]int
	WorkerMaxRetry    int
	StuckAfter        time.Duration
	MetricsAddr       string // worker: where /metrics is served

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

func envInt(name string, def int) int {
	v := env(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: PARLEY_%s=%q is not a number; using %d\n", name, v, def)
		return def
	}
	return n
}

func envBool(name string, def bool) bool {
	v := env(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "parley: PARLEY_%s=%q is not a boolean; using %v\n", name, v, def)
		return def
	}
	return b
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
	cfg    *Config
	queues *string
}

// newFlags binds the flags every subcommand shares to cfg, with defaults
// from the environment. defAddr differs: dev listens on loopback.
func newFlags(name string, cfg *Config, defAddr string) *flagSet {
	fs := flag.NewFlagSet("parley "+name, flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", defAddr), "listen address (PARLEY_ADDR)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("PUBLIC_URL", ""), "base URL clients use to reach this server (PARLEY_PUBLIC_URL; default http://ADDR)")
	fs.StringVar(&cfg.DataDir, "data", env("DATA_DIR", "./data"), "dev mode data directory (PARLEY_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", env("DATABASE_URL", ""), "postgres://… (PARLEY_DATABASE_URL)")
	fs.StringVar(&cfg.RedisURL, "redis-url", env("REDIS_URL", ""), "redis://host:6379/0 or redis-sentinel://s1:26379,s2:26379/mymaster/0 (PARLEY_REDIS_URL)")
	fs.StringVar(&cfg.LogLevel, "log-level", env("LOG_LEVEL", "info"), "debug, info, warn or error (PARLEY_LOG_LEVEL)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", envDuration("SHUTDOWN_TIMEOUT", 20*time.Second), "how long SIGTERM waits for in-flight work (PARLEY_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&cfg.WorkerConcurrency, "concurrency", envInt("WORKER_CONCURRENCY", 0), "media jobs run at once per worker (PARLEY_WORKER_CONCURRENCY; 0 = number of CPUs)")
	queues := fs.String("queues", env("WORKER_QUEUES", ""), "queue weights, e.g. voice=6,image=4,file=2,video=1 (PARLEY_WORKER_QUEUES)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("METRICS_ADDR", "127.0.0.1:9091"), "worker: address of /metrics (PARLEY_METRICS_ADDR; empty = off)")
	fs.BoolVar(&cfg.AutoMigrate, "migrate", envBool("AUTO_MIGRATE", true), "apply database migrations at start (PARLEY_AUTO_MIGRATE)")
	cfg.JWTSecret = env("JWT_SECRET", "")
	cfg.AdminUsername = env("ADMIN_USERNAME", "")
	cfg.AdminPassword = env("ADMIN_PASSWORD", "")
	cfg.PushWebhookURL = env("PUSH_WEBHOOK_URL", "")
	cfg.AllowedOrigins = splitList(env("ALLOWED_ORIGINS", ""))
	cfg.S3Endpoint = env("S3_ENDPOINT", "")
	cfg.S3Bucket = env("S3_BUCKET", "parley")
	cfg.S3AccessKey = env("S3_ACCESS_KEY", "")
	cfg.S3SecretKey = env("S3_SECRET_KEY", "")
	cfg.S3Region = env("S3_REGION", "us-east-1")
	cfg.S3UseTLS = envBool("S3_USE_TLS", false)
	cfg.S3PublicEndpoint = env("S3_PUBLIC_ENDPOINT", "")
	cfg.UploadsPerMinute = envInt("UPLOADS_PER_MINUTE", 0)
	cfg.UploadDailyBytes = int64(envInt("UPLOAD_DAILY_BYTES", 0))
	cfg.AuthPerMinute = envInt("AUTH_PER_MINUTE", 0)
	cfg.AccessTTL = envDuration("ACCESS_TTL", 0)
	cfg.Web = envBool("WEB", false)
	cfg.MessagesPerSecond = envInt("MESSAGES_PER_SECOND", 0)
	cfg.TrustForwardedFor = envBool("TRUST_FORWARDED_FOR", false)
	cfg.WorkerMaxRetry = envInt("WORKER_MAX_RETRY", 0)
	cfg.StuckAfter = envDuration("STUCK_AFTER", 0)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: parley %s [flags]\n", name)
		fs.PrintDefaults()
	}
	return &flagSet{FlagSet: fs, cfg: cfg, queues: queues}
}

// parse parses args, then the values that need it after parsing.
func (fs *flagSet) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := fs.cfg
	q, err := parseQueues(*fs.queues)
	if err != nil {
		return fmt.Errorf("-queues: %w", err)
	}
	cfg.WorkerQueues = q
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
	return errors.Join(errs...)
}
