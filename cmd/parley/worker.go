package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore"
	chatredis "github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/pipeline"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/workers"
)

// runWorker is `parley worker`: an asynq server that runs the media
// pipeline. It needs the database, Redis and the object store, never a chat node.
func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlags("worker", &cfg, ":8080")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := cfg.ValidateServe(false); err != nil {
		return err
	}
	if cfg.S3Endpoint == "" {
		return fmt.Errorf("PARLEY_S3_ENDPOINT is required: workers read originals from and write variants to the object store")
	}
	a := newApp(cfg, stderr)
	defer a.close()
	svc, err := a.openServices(ctx)
	if err != nil {
		return err
	}
	reg := newRegistry()
	if err := a.startWorker(ctx, workerDeps{store: svc.store, redis: svc.redis, asynq: svc.asynq, objects: svc.objects, registry: reg}); err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listen on %s: %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		a.onClose("metrics server", srv.Shutdown)
		fmt.Fprintf(stdout, "parley: worker metrics on http://%s/metrics\n", ln.Addr())
	}
	fmt.Fprintln(stdout, "parley: worker running")
	<-ctx.Done()
	a.logger.Info("worker shutting down")
	return nil
}

type workerDeps struct {
	store    chatcore.Store
	redis    goredis.UniversalClient
	asynq    asynq.RedisConnOpt
	objects  upload.ObjectStore
	registry prometheus.Registerer
}

// startWorker starts the asynq server and the reconciler; both stop at a.close.
func (a *app) startWorker(ctx context.Context, d workerDeps) error {
	cfg := a.cfg
	bus := chatredis.NewBus(d.redis, chatredis.BusOptions{Logger: a.logger})
	a.onClose("worker bus", func(context.Context) error { return bus.Close() })
	wcfg := workers.Config{
		Store:           d.store,
		Objects:         d.objects,
		Bus:             bus,
		Redis:           d.asynq,
		Concurrency:     cfg.WorkerConcurrency,
		Queues:          cfg.WorkerQueues,
		MaxRetry:        cfg.WorkerMaxRetry,
		StuckAfter:      cfg.StuckAfter,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Limits:          pipeline.Limits{KeepMetadata: cfg.KeepOriginalMetadata},
		Logger:          a.logger,
		Registerer:      d.registry,
	}
	srv, err := workers.NewServer(wcfg)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	a.onClose("worker", func(context.Context) error { srv.Shutdown(); return nil })

	rec := workers.NewReconciler(wcfg)
	rctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(rctx) }()
	a.onClose("reconciler", func(sctx context.Context) error {
		stop()
		select { // a pass in flight stops at its next attachment
		case <-done:
		case <-sctx.Done():
		}
		return rec.Close()
	})
	return nil
}
