package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/chatcore/httpapi"
	chatredis "github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/chatcore/webhook"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/workers"
)

// chatDeps are the adapters a chat node runs on; dev and serve differ only here.
type chatDeps struct {
	store    chatcore.Store
	redis    goredis.UniversalClient
	asynq    asynq.RedisConnOpt
	objects  upload.ObjectStore      // nil: uploads answer 503
	mounts   map[string]http.Handler // dev: signed blob URLs served by Parley
	registry *prometheus.Registry
	limiters ratelimit.Factory // nil: in-process (dev, one node)
	ready    func(ctx context.Context) error
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// serveChat runs a chat node until ctx is done, then shuts it down in order:
// stop accepting, close sockets with a close frame, finish in-flight
// requests, stop the service; the stores close through a.close.
func (a *app) serveChat(ctx context.Context, d chatDeps, stdout io.Writer) error {
	cfg, logger := a.cfg, a.logger
	a.setGroupCommit(d.store)
	if cfg.PprofAddr != "" {
		if err := a.startPprof(cfg.PprofAddr); err != nil {
			return err
		}
	}
	// Events published while this node was cut off from Redis are lost to
	// its sockets: once the bus is back, close them all so every client
	// reconnects and catches up with after=.
	var hub atomic.Pointer[chatcore.Hub]
	bus := chatredis.NewBus(d.redis, chatredis.BusOptions{Logger: logger, OnResubscribe: func(downtime time.Duration) {
		if h := hub.Load(); h != nil {
			n := h.KickAll()
			logger.Warn("event bus resubscribed; sockets closed to resync",
				slog.Int64("downtime_ms", downtime.Milliseconds()), slog.Int("sockets", n))
		}
	}})
	a.onClose("bus", func(context.Context) error { return bus.Close() })
	presence := chatredis.NewPresence(d.redis, chatredis.PresenceOptions{})

	var notifier chatcore.Notifier
	if cfg.PushWebhookURL != "" {
		n := webhook.New(webhook.Config{URL: cfg.PushWebhookURL, Secret: cfg.Push.WebhookSecret, Logger: logger})
		a.onClose("push webhook", n.Close)
		d.registry.MustRegister(n.Collector())
		notifier = n
	}

	var push chatcore.PushService
	pusher, err := a.newPusher(d.store, presence, d.registry)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if pusher != nil {
		// Closers run in reverse: the pusher sends what is queued after the
		// service stops queueing, and before the store closes.
		a.onClose("pusher", pusher.Close)
		push = pusher
	}

	var objectDeleter chatcore.AttachmentObjectDeleter
	if d.objects != nil {
		objectDeleter = upload.NewLifecycle(d.store, d.objects, nil)
	}
	chat, err := chatcore.NewServices(chatcore.ServiceConfig{
		Store:     d.store,
		Bus:       bus,
		Presence:  presence,
		Notifier:  notifier,
		Push:      push,
		Logger:    logger,
		JWTSecret: []byte(cfg.JWTSecret),
		AccessTTL: cfg.AccessTTL,
		Hooks:     httpapi.MetricsHooks(d.registry),

		SyncRetention: cfg.SyncRetention,

		MaxSocketsPerUser: cfg.MaxSocketsPerUser,

		MemberCacheTTL:  cfg.MemberCacheTTL,
		MemberCacheSize: cfg.MemberCacheSize,

		EditWindow:            cfg.EditWindow,
		AttachmentObjects:     objectDeleter,
		AttachmentDeleteGrace: cfg.AttachmentDeleteGrace,
	})
	if err != nil {
		return err
	}
	hub.Store(chat.Hub)
	svcCtx, stopSvc := context.WithCancel(context.WithoutCancel(ctx))
	svcDone := make(chan error, 1)
	go func() { svcDone <- chat.Run(svcCtx) }()
	sweepDone := make(chan struct{})
	go func() { defer close(sweepDone); chat.RunAttachmentSweeper(svcCtx, cfg.AttachmentSweepInterval) }()
	a.onClose("chat service", func(context.Context) error {
		stopSvc()
		<-svcDone
		<-sweepDone
		return chat.Close()
	})

	if cfg.AdminUsername != "" || cfg.AdminPassword != "" {
		if _, err := chat.Auth.EnsureAdmin(ctx, cfg.AdminUsername, cfg.AdminPassword, cfg.AdminPromoteExisting); err != nil {
			return fmt.Errorf("admin account %q: %w", cfg.AdminUsername, err)
		}
		logger.Info("admin account ready", slog.String("username", cfg.AdminUsername))
	}

	var uploads chatcore.UploadService
	var forward chatcore.ForwardService
	var objects chatcore.AttachmentObjects // for account deletion (account.go)
	if d.objects != nil {
		enq := workers.NewEnqueuer(d.asynq, workers.EnqueueOptions{MaxRetry: cfg.WorkerMaxRetry})
		a.onClose("enqueuer", func(context.Context) error { return enq.Close() })
		us, err := upload.NewService(upload.Config{
			Store:            d.store,
			Objects:          d.objects,
			Enqueuer:         enq,
			Logger:           logger,
			UploadsPerMinute: cfg.UploadsPerMinute,
			DailyBytes:       cfg.UploadDailyBytes,

			MultipartThreshold: cfg.MultipartThreshold,
			PartSize:           cfg.UploadPartSize,
			MultipartMaxAge:    cfg.MultipartMaxAge,
		})
		if err != nil {
			return err
		}
		uploads = us
		lifecycle := upload.NewLifecycle(d.store, d.objects, nil)
		forward, objects = lifecycle, lifecycle
		janitor := upload.NewJanitor(d.store, d.objects, logger)
		janitor.Lifecycle, janitor.Retention = lifecycle, cfg.MediaRetention
		jctx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
		go janitor.Run(jctx)
		a.onClose("upload janitor", func(context.Context) error { stopJanitor(); return nil })
	} else {
		logger.Warn("no object store configured (PARLEY_S3_ENDPOINT); uploads are disabled")
	}

	accounts, err := a.startAccounts(ctx, chat, d, objects)
	if err != nil {
		return err
	}

	jobs := workers.NewJobService(d.asynq)
	a.onClose("jobs inspector", func(context.Context) error { return jobs.Close() })

	adminUI := workers.AdminUI(d.asynq, "/admin/queues")
	a.onClose("admin ui", func(context.Context) error { return adminUI.Close() })

	api, err := httpapi.New(httpapi.Config{
		Auth:           chat.Auth,
		Users:          chat.Users,
		Conversations:  chat.Conversations,
		Messages:       chat.Messages,
		Receipts:       chat.Receipts,
		Typing:         chat.Typing,
		Presence:       chat.Presence,
		Search:         chat.Search,
		Sync:           chat.Sync,
		Edits:          chat.Edits,
		Devices:        chat.Devices,
		Blocks:         chat.Blocks,
		Reports:        chat.Reports,
		Moderation:     chat.Moderation,
		Accounts:       accounts,
		Hub:            chat.Hub,
		Uploads:        uploads,
		Forward:        forward,
		Jobs:           jobs,
		AdminUI:        adminUI,
		Mounts:         d.mounts,
		Ready:          d.ready,
		Registry:       d.registry,
		Logger:         logger,
		AllowedOrigins: cfg.AllowedOrigins,
		RateLimits: httpapi.RateLimits{
			AuthPerMinute:     float64(cfg.AuthPerMinute),
			MessagesPerSecond: float64(cfg.MessagesPerSecond),
		},
		Limiters:          d.limiters,
		TrustForwardedFor: cfg.TrustForwardedFor,
		NoAccessLog:       !cfg.AccessLog,
		MetricsToken:      cfg.MetricsToken,
		SecureCookies:     strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://"),
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	guard := httpapi.NewConnGuard(httpapi.ConnLimits{MaxUnfinished: cfg.MaxUnfinishedConns, MaxPerIP: cfg.MaxConnsPerIP})
	ln = guard.Listener(ln)
	d.registry.MustRegister(guard.Collectors()...)
	srv := &http.Server{
		Handler:           guard.Handler(api.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	guard.Configure(srv)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "parley: listening on http://%s\n", ln.Addr())
	logger.Info("listening", slog.String("addr", ln.Addr().String()))

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Sockets first (they are hijacked: srv.Shutdown does not see them), then
	// in-flight HTTP requests.
	err = errors.Join(api.Shutdown(sctx), srv.Shutdown(sctx))
	return err
}
