package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// TestHelpPerSubcommand: each subcommand's -h lists the flags it uses and
// only those, shows secrets as environment-only settings, and returns
// flag.ErrHelp (exit 0).
func TestHelpPerSubcommand(t *testing.T) {
	tests := []struct {
		cmd       string
		want, not []string
	}{
		{"serve", []string{"-addr", "-database-url", "-redis-url", "-s3-endpoint", "-s3-access-key", "-s3-public-endpoint",
			"-push-webhook-url", "-allowed-origins", "-messages-per-second", "-max-retry", "PARLEY_JWT_SECRET", "PARLEY_S3_SECRET_KEY"},
			[]string{"-queues", "-concurrency", "-metrics-addr", "-data "}},
		{"worker", []string{"-database-url", "-redis-url", "-s3-endpoint", "-concurrency", "-queues", "-metrics-addr", "-stuck-after", "PARLEY_S3_SECRET_KEY"},
			[]string{"  -addr ", "-push-webhook-url", "PARLEY_JWT_SECRET", "-data "}},
		{"migrate", []string{"-database-url", "-data", "-log-level"},
			[]string{"-queues", "-redis-url", "-s3-endpoint", "  -addr ", "  -migrate", "secrets (environment only)"}},
		{"dev", []string{"-addr", "-data", "-concurrency", "-push-webhook-url", "PARLEY_JWT_SECRET"},
			[]string{"-database-url", "-redis-url", "-s3-endpoint", "-metrics-addr"}},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{tc.cmd, "-h"}, &stdout, &stderr)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("%s -h: got %v, want flag.ErrHelp (exit 0)", tc.cmd, err)
			}
			help := stdout.String()
			for _, w := range tc.want {
				if !strings.Contains(help, w) {
					t.Errorf("%s -h does not list %s:\n%s", tc.cmd, w, help)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(help, n) {
					t.Errorf("%s -h lists %s, which %s does not use", tc.cmd, n, tc.cmd)
				}
			}
		})
	}
}

func TestFlagsReadEnvironmentButHelpDoesNotShowIt(t *testing.T) {
	t.Setenv("PARLEY_DATABASE_URL", "postgres://app:hunter2@db:5432/parley")
	t.Setenv("PARLEY_S3_ENDPOINT", "s3.internal:9000")
	t.Setenv("PARLEY_WORKER_CONCURRENCY", "3")
	t.Setenv("PARLEY_SHUTDOWN_TIMEOUT", "7s")
	var cfg Config
	fs := newFlags("worker", &cfg, ":8080")
	var help bytes.Buffer
	fs.SetOutput(&help)
	if err := fs.parse([]string{"-concurrency", "5"}); err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://app:hunter2@db:5432/parley" || cfg.S3Endpoint != "s3.internal:9000" || cfg.ShutdownTimeout != 7*time.Second {
		t.Errorf("environment not applied: %+v", cfg)
	}
	if cfg.WorkerConcurrency != 5 {
		t.Errorf("concurrency: got %d, want the flag's 5 over the environment's 3", cfg.WorkerConcurrency)
	}
	fs.Usage()
	if strings.Contains(help.String(), "hunter2") || strings.Contains(help.String(), "s3.internal") {
		t.Errorf("-h shows values from the environment:\n%s", help.String())
	}

	t.Setenv("PARLEY_WORKER_CONCURRENCY", "many")
	var cfg2 Config
	err := newFlags("worker", &cfg2, ":8080").parse(nil)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_WORKER_CONCURRENCY") {
		t.Errorf("bad PARLEY_WORKER_CONCURRENCY: got %v, want an error naming it", err)
	}
}

func TestMigrateNeedsAnExplicitDatabase(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"migrate"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_DATABASE_URL") || !strings.Contains(err.Error(), "-data") {
		t.Fatalf("migrate with no database: got %v, want a refusal naming PARLEY_DATABASE_URL and -data", err)
	}
	dir := t.TempDir()
	stdout.Reset()
	if err := run(context.Background(), []string{"migrate", "-data", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("migrate -data: %v", err)
	}
	if !strings.Contains(stdout.String(), "migrating sqlite database "+dir+"/parley.db") {
		t.Errorf("migrate -data output: %q, want it to name the file", stdout.String())
	}
	if got := describePostgres("postgres://app:hunter2@db.internal:5432/parley?sslmode=require"); got != "parley at db.internal:5432 as app" {
		t.Errorf("describePostgres: got %q", got)
	}
}

func TestUsageExitCodes(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), nil, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("no command: got %v, want errUsage (exit 2)", err)
	}
	if err := run(context.Background(), []string{"jobs", "-h"}, &stdout, &stderr); err != nil {
		t.Errorf("jobs -h: got %v, want nil (exit 0)", err)
	}
	if err := run(context.Background(), []string{"jobs"}, &stdout, &stderr); !errors.Is(err, errUsage) {
		t.Errorf("jobs: got %v, want errUsage", err)
	}
}
