package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/workers"
)

func TestReconcilerReenqueuesLostTasks(t *testing.T) {
	e := newEnv(t)
	enq := e.enqueuer(t, workers.EnqueueOptions{})
	lost := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 320, 240))
	alive := e.attach(t, chatcore.AttachVoice, "audio/ogg", []byte("OggS"))
	if err := enq.EnqueueAttachment(e.ctx, lost); err != nil {
		t.Fatal(err)
	}
	// Redis loses its data (a restart without persistence, a failover)...
	if err := e.rdb.FlushDB(e.ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// ...while another upload's task is enqueued after it.
	if err := enq.EnqueueAttachment(e.ctx, alive); err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Clock, cfg.StuckAfter = e.clock, 10*time.Minute
	rec := workers.NewReconciler(cfg)
	defer rec.Close()

	for _, tc := range []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"young attachments are left alone", time.Minute, 0},
		{"a stuck attachment without a task is enqueued", 15 * time.Minute, 1},
		{"once enqueued it has a live task", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.Advance(tc.advance)
			got, err := rec.ReconcileOnce(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %d reconciled, want %d", got, tc.want)
			}
		})
	}
	info, err := e.inspector(t).GetTaskInfo(workers.QueueFor(chatcore.AttachImage), lost.ID)
	if err != nil {
		t.Fatalf("lost task was not enqueued again: %v", err)
	}
	if info.State != asynq.TaskStatePending || info.MaxRetry != workers.DefaultMaxRetry {
		t.Errorf("got state %v max retry %d, want pending with the default %d", info.State, info.MaxRetry, workers.DefaultMaxRetry)
	}

	// A worker picks it up and the attachment turns ready.
	e.start(t, e.config())
	e.bus.waitAttachment(t, lost.ID, chatcore.StatusReady, 30*time.Second)
}

func TestReconcilerRerunsArchivedTaskOfProcessingRow(t *testing.T) {
	e := newEnv(t)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 320, 240))
	// The last try could not record its verdict: the task is archived while
	// the row still says processing.
	task, err := workers.NewMediaTask(a, asynq.MaxRetry(0))
	if err != nil {
		t.Fatal(err)
	}
	c := asynq.NewClient(e.redis)
	defer c.Close()
	if _, err := c.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	insp := e.inspector(t)
	if err := insp.ArchiveTask(workers.QueueFor(chatcore.AttachImage), a.ID); err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Clock, cfg.StuckAfter = e.clock, time.Minute
	e.clock.Advance(time.Hour)
	rec := workers.NewReconciler(cfg)
	defer rec.Close()
	if got, err := rec.ReconcileOnce(e.ctx); err != nil || got != 1 {
		t.Fatalf("got %d reconciled (err %v), want 1", got, err)
	}
	if info, err := insp.GetTaskInfo(workers.QueueFor(chatcore.AttachImage), a.ID); err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("got %+v (err %v), want the archived task pending again", info, err)
	}
	e.start(t, e.config())
	e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 30*time.Second)
}

func TestReconcilerRepairsActiveTaskWithoutLease(t *testing.T) {
	e := newEnv(t)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 320, 240))
	if err := e.enqueuer(t, workers.EnqueueOptions{}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	// asynq issue #1144: the task sits in the active list, but its lease
	// entry is gone, so asynq's own recoverer never sees it.
	if err := e.rdb.LMove(e.ctx, "asynq:{image}:pending", "asynq:{image}:active", "RIGHT", "LEFT").Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.HSet(e.ctx, "asynq:{image}:t:"+a.ID, "state", "active").Err(); err != nil {
		t.Fatal(err)
	}
	insp := e.inspector(t)
	if info, err := insp.GetTaskInfo(workers.QueueFor(chatcore.AttachImage), a.ID); err != nil || info.State != asynq.TaskStateActive {
		t.Fatalf("setup: got %+v (err %v), want an active task", info, err)
	}
	cfg := e.config()
	cfg.Clock, cfg.StuckAfter = e.clock, time.Minute
	e.clock.Advance(time.Hour)
	rec := workers.NewReconciler(cfg)
	defer rec.Close()
	for _, want := range []int{1, 0} { // the second pass finds the lease in place
		if got, err := rec.ReconcileOnce(e.ctx); err != nil || got != want {
			t.Fatalf("got %d reconciled (err %v), want %d", got, err, want)
		}
	}
	// A worker's recoverer (it runs at start, then every minute) hands the
	// task back, and it completes.
	e.start(t, e.config())
	e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 30*time.Second)
}

// TestLeaseKeyLayout pins the one piece of asynq's private Redis layout the
// reconciler relies on (restoreExpiredLease, for asynq issue #1144): a task
// enqueued and dequeued by asynq itself has its lease, with a future
// expiry, in the sorted set at workers.LeaseKey. If an asynq upgrade moves
// or reshapes it, this fails: fix leaseKey, or drop the repair if asynq
// now recovers such tasks itself.
func TestLeaseKeyLayout(t *testing.T) {
	e := newEnv(t)
	q := workers.QueueFor(chatcore.AttachImage)
	started, release := make(chan string, 1), make(chan struct{})
	srv := asynq.NewServer(e.redis, asynq.Config{
		Concurrency: 1, Queues: map[string]int{q: 1}, Logger: quietAsynq{}, ShutdownTimeout: time.Second,
	})
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		started <- id
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	defer close(release)

	client := asynq.NewClient(e.redis)
	defer client.Close()
	id := newID()
	if _, err := client.Enqueue(asynq.NewTask("layout:probe", nil, asynq.Queue(q), asynq.TaskID(id))); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-started:
		if got != id {
			t.Fatalf("dequeued %s, want %s", got, id)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("asynq never dequeued the task")
	}
	expiry, err := e.rdb.ZScore(e.ctx, workers.LeaseKey(q), id).Result()
	if err != nil {
		t.Fatalf("asynq keeps no lease for active task %s in %s (err %v): its key layout changed; see workers/asynqlease.go", id, workers.LeaseKey(q), err)
	}
	if now := float64(time.Now().Unix()); expiry <= now || expiry > now+3600 {
		t.Fatalf("lease of %s expires at %v, want Unix seconds shortly after %v: asynq's lease format changed; see workers/asynqlease.go", id, expiry, now)
	}
}

// quietAsynq drops asynq's own log lines.
type quietAsynq struct{}

func (quietAsynq) Debug(...any) {}
func (quietAsynq) Info(...any)  {}
func (quietAsynq) Warn(...any)  {}
func (quietAsynq) Error(...any) {}
func (quietAsynq) Fatal(...any) {}

// TestReconcilerResumesVideoLeftAtPosterReady: a video whose poster was
// recorded but whose playback task was lost (Redis lost its data) would
// stay at poster_ready for ever; the reconciler enqueues it again and a
// worker makes the playback variant.
func TestReconcilerResumesVideoLeftAtPosterReady(t *testing.T) {
	e := newEnv(t)
	data := ffmpegFile(t, "in.mp4", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p")
	a := e.attach(t, chatcore.AttachVideo, "video/mp4", data)
	// What the first stage records before the task is lost.
	a.Status, a.Step, a.Width, a.Height, a.DurationMS = chatcore.StatusReady, chatcore.StepPosterReady, 320, 240, 1000
	a.Variants = map[string]chatcore.Variant{chatcore.VariantOriginal: {Key: a.ObjectKey, ContentType: "video/mp4", Size: a.Size}}
	if err := e.store.UpdateAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Clock, cfg.StuckAfter = e.clock, 10*time.Minute
	rec := workers.NewReconciler(cfg)
	defer rec.Close()
	if n, err := rec.ReconcileOnce(e.ctx); err != nil || n != 0 {
		t.Fatalf("young video: got %d, %v, want 0", n, err)
	}
	e.clock.Advance(15 * time.Minute)
	if n, err := rec.ReconcileOnce(e.ctx); err != nil || n != 1 {
		t.Fatalf("video left at poster_ready: got %d, %v, want 1", n, err)
	}
	e.start(t, e.config())
	done := waitFrame(t, e.bus, a.ID, 120*time.Second, "ready, step done", func(a *chatcore.Attachment) bool {
		return a.Status == chatcore.StatusReady && a.Step == ""
	})
	if done.Variants[chatcore.VariantPlayback].ContentType != "video/mp4" {
		t.Errorf("after the reconciler: variants %v, want a playback MP4", done.Variants)
	}
	if n, err := rec.ReconcileOnce(e.ctx); err != nil || n != 0 {
		t.Errorf("after playback: got %d, %v, want nothing to reconcile", n, err)
	}
}
