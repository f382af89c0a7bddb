package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parley-chat/parley/internal/redisconn"
	"github.com/parley-chat/parley/workers"
)

const jobsUsage = `usage:
  parley jobs list    [-queue Q] [-state archived|retry|pending|active|scheduled] [-limit N] [-json]
  parley jobs requeue -queue Q -task TASK_ID
  parley jobs requeue -all [-queue Q] [-state archived|retry]
Reads PARLEY_REDIS_URL (or -redis-url); against a running parley dev, pass
its data directory instead (-data ./data): dev leaves its embedded Redis URL
there.
`

// runJobs is `parley jobs`: the operator's view of media jobs, the same
// service the admin API uses.
func runJobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(stdout, jobsUsage)
		return nil
	}
	if len(args) == 0 || (args[0] != "list" && args[0] != "requeue") {
		fmt.Fprint(stderr, jobsUsage)
		if len(args) == 0 {
			return errUsage
		}
		return fmt.Errorf("jobs: unknown subcommand %q", args[0])
	}
	sub := args[0]
	fs := flag.NewFlagSet("parley jobs "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	redisURL := fs.String("redis-url", env("REDIS_URL", ""), "redis://host:6379/0 or redis-sentinel://s1:26379,s2:26379/mymaster/0 (PARLEY_REDIS_URL)")
	queue := fs.String("queue", "", "queue name (image, voice, video, file); empty = all")
	state := fs.String("state", "archived", "task state")
	limit := fs.Int("limit", 100, "most jobs to list")
	asJSON := fs.Bool("json", false, "print JSON")
	task := fs.String("task", "", "task id (the attachment id)")
	all := fs.Bool("all", false, "requeue every task in -state")
	dataDir := fs.String("data", env("DATA_DIR", ""), "data `directory` of a running parley dev: use its embedded Redis (PARLEY_DATA_DIR)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *redisURL == "" && *dataDir != "" {
		b, err := os.ReadFile(filepath.Join(*dataDir, devRedisURLFile))
		if err != nil {
			return fmt.Errorf("no parley dev running with data directory %s (%s not found); or set PARLEY_REDIS_URL", *dataDir, devRedisURLFile)
		}
		*redisURL = strings.TrimSpace(string(b))
	}
	if *redisURL == "" {
		return errors.New("PARLEY_REDIS_URL (or -redis-url) is required, or -data DIR of a running parley dev")
	}
	rc, err := redisconn.Parse(*redisURL)
	if err != nil {
		return fmt.Errorf("PARLEY_REDIS_URL: %w", err)
	}
	jobs := workers.NewJobService(rc.Asynq())
	defer jobs.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	switch {
	case sub == "list":
		list, err := jobs.ListJobs(ctx, *queue, *state, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(list)
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "QUEUE\tTASK\tKIND\tSTATE\tRETRIED\tFAILED AT\tREASON\tERROR")
		for _, j := range list {
			failed := ""
			if !j.FailedAt.IsZero() {
				failed = j.FailedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", j.Queue, j.TaskID, j.Kind, j.State, j.Retried, j.MaxRetry, failed, j.Reason, j.Error)
		}
		return tw.Flush()
	case *all:
		n, err := jobs.RequeueAll(ctx, *queue, *state)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "requeued %d job(s)\n", n)
		return nil
	default:
		if *queue == "" || *task == "" {
			return errors.New("requeue needs -queue and -task, or -all")
		}
		if err := jobs.RequeueJob(ctx, *queue, *task); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "requeued %s/%s\n", *queue, *task)
		return nil
	}
}
