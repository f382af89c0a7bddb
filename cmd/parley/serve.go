package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/parley-chat/parley/chatcore/postgres"
	"github.com/parley-chat/parley/internal/ratelimit"
	"github.com/parley-chat/parley/upload"
	uploads3 "github.com/parley-chat/parley/upload/s3"
)

// runServe is `parley serve`: a production chat node.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := newFlags("serve", &cfg, ":8080")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := cfg.ValidateServe(true); err != nil {
		return err
	}
	a := newApp(cfg, stderr)
	defer a.close()

	svc, err := a.openServices(ctx)
	if err != nil {
		return err
	}
	return a.serveChat(ctx, chatDeps{
		store:    svc.store,
		redis:    svc.redis,
		asynq:    svc.asynq,
		objects:  svc.objects,
		mounts:   webMounts(cfg),
		registry: newRegistry(),
		limiters: ratelimit.RedisFactory(svc.redis, a.logger),
		ready: func(ctx context.Context) error {
			return errors.Join(svc.store.Ping(ctx), svc.redis.Ping(ctx).Err())
		},
	}, stdout)
}

// services are the production shapes' shared dependencies.
type services struct {
	store   *postgres.DB
	redis   goredis.UniversalClient
	asynq   asynq.RedisConnOpt
	objects upload.ObjectStore // nil without PARLEY_S3_ENDPOINT
}

// openServices connects to Postgres (migrating unless disabled), Redis and
// the object store, failing fast with what is wrong.
func (a *app) openServices(ctx context.Context) (*services, error) {
	store, err := a.openPostgres(ctx)
	if err != nil {
		return nil, err
	}
	rdb, aopt, err := a.openRedis(ctx, a.cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	objects, err := a.openS3(ctx)
	if err != nil {
		return nil, err
	}
	return &services{store: store, redis: rdb, asynq: aopt, objects: objects}, nil
}

// openPostgres opens the database and applies migrations unless disabled.
func (a *app) openPostgres(ctx context.Context) (*postgres.DB, error) {
	db, err := postgres.Open(ctx, a.cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	a.onClose("database", func(context.Context) error { return db.Close() })
	if a.cfg.AutoMigrate {
		if err := db.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
	}
	return db, nil
}

// openS3 returns the S3 object store, creating the bucket if missing, or
// nil when no endpoint is configured.
func (a *app) openS3(ctx context.Context) (upload.ObjectStore, error) {
	cfg := a.cfg
	if cfg.S3Endpoint == "" {
		return nil, nil
	}
	st, err := uploads3.New(uploads3.Config{
		Endpoint:       cfg.S3Endpoint,
		Bucket:         cfg.S3Bucket,
		AccessKey:      cfg.S3AccessKey,
		SecretKey:      cfg.S3SecretKey,
		Region:         cfg.S3Region,
		UseTLS:         cfg.S3UseTLS,
		PublicEndpoint: cfg.S3PublicEndpoint,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if err := st.EnsureBucket(ctx); err != nil {
		return nil, fmt.Errorf("s3 bucket %s at %s: %w", cfg.S3Bucket, cfg.S3Endpoint, err)
	}
	return st, nil
}
