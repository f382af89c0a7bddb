package workers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/pipeline"
	"github.com/parley-chat/parley/upload"
	"github.com/parley-chat/parley/workers"
)

var (
	_ upload.Enqueuer     = (*workers.Enqueuer)(nil)
	_ workers.ObjectStore = upload.ObjectStore(nil)
)

func TestFailuresOnTheLastTry(t *testing.T) {
	for _, tc := range []struct {
		name        string
		process     workers.ProcessFunc
		maxRetry    int
		wantReason  string
		wantRetried int
	}{
		{
			name: "timeouts are retried, then fail",
			process: func(context.Context, pipeline.Kind, string, string, pipeline.Limits) (*pipeline.Result, error) {
				return nil, fmt.Errorf("process: %w: ffmpeg killed", pipeline.ErrTimeout)
			},
			maxRetry: 1, wantReason: workers.ReasonTimeout, wantRetried: 1,
		},
		{
			name: "a panic is an internal failure",
			process: func(context.Context, pipeline.Kind, string, string, pipeline.Limits) (*pipeline.Result, error) {
				panic("decoder bug")
			},
			maxRetry: -1, wantReason: workers.ReasonInternal, wantRetried: 0,
		},
		{
			name: "too large is permanent",
			process: func(context.Context, pipeline.Kind, string, string, pipeline.Limits) (*pipeline.Result, error) {
				return nil, fmt.Errorf("process: %w: 30000x30000", pipeline.ErrTooLarge)
			},
			maxRetry: 5, wantReason: workers.ReasonTooLarge, wantRetried: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := e.start(t, e.config())
			workers.SetProcess(srv.Handler(), tc.process)
			a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 32, 32))
			if err := e.enqueuer(t, workers.EnqueueOptions{MaxRetry: tc.maxRetry}).EnqueueAttachment(e.ctx, a); err != nil {
				t.Fatal(err)
			}
			_, f := e.bus.waitAttachment(t, a.ID, chatcore.StatusFailed, 30*time.Second)
			if f.Attachment.Error != tc.wantReason {
				t.Errorf("got reason %q, want %q", f.Attachment.Error, tc.wantReason)
			}
			info := waitTask(t, e.inspector(t), workers.QueueFor(chatcore.AttachImage), a.ID, 10*time.Second, func(ti *asynq.TaskInfo) bool {
				return ti.State == asynq.TaskStateArchived
			})
			if info.Retried != tc.wantRetried {
				t.Errorf("got %d retries, want %d", info.Retried, tc.wantRetried)
			}
		})
	}
}

func TestShutdownHandsInFlightTasksBack(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.ShutdownTimeout = 300 * time.Millisecond
	srv, err := workers.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	workers.SetProcess(srv.Handler(), func(ctx context.Context, _ pipeline.Kind, _, _ string, _ pipeline.Limits) (*pipeline.Result, error) {
		close(started)
		select { // a long video
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Minute):
			return nil, fmt.Errorf("not interrupted")
		}
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	a := e.attach(t, chatcore.AttachVideo, "video/mp4", []byte("not really a video"))
	if err := e.enqueuer(t, workers.EnqueueOptions{MaxRetry: -1}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("task never started")
	}
	begin := time.Now()
	srv.Shutdown()
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("Shutdown took %v, want about the 300ms shutdown timeout", took)
	}
	info, err := e.inspector(t).GetTaskInfo(workers.QueueFor(chatcore.AttachVideo), a.ID)
	if err != nil || info.State != asynq.TaskStatePending || info.Retried != 0 {
		t.Errorf("got %+v (err %v), want the task pending again without a retry used", info, err)
	}
	// Even with no retry left, an interrupted try records no verdict.
	if got, _ := e.store.AttachmentByID(e.ctx, a.ID); got.Status != chatcore.StatusProcessing {
		t.Errorf("got status %s, want processing", got.Status)
	}
	e.bus.mu.Lock()
	defer e.bus.mu.Unlock()
	for _, ev := range e.bus.events {
		if strings.Contains(string(ev.Frame), `"failed"`) {
			t.Errorf("members were told of a failure: %s", ev.Frame)
		}
	}
}

func TestTwoServersShareOneRegistry(t *testing.T) {
	e := newEnv(t)
	cfg := e.config()
	cfg.Registerer = prometheus.NewRegistry()
	for i := range 2 {
		if _, err := workers.NewServer(cfg); err != nil {
			t.Fatalf("server %d: %v", i+1, err)
		}
		workers.NewReconciler(cfg).Close()
	}
}
