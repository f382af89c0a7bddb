package workers_test

import (
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/pipeline"
	"github.com/parley-chat/parley/workers"
)

func TestEnqueueTwiceMakesOneTask(t *testing.T) {
	e := newEnv(t)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 64, 48))
	enq := e.enqueuer(t, workers.EnqueueOptions{MaxRetry: 3})
	for i := range 2 {
		if err := enq.EnqueueAttachment(e.ctx, a); err != nil {
			t.Fatalf("enqueue #%d: %v", i+1, err)
		}
	}
	tasks, err := e.inspector(t).ListPendingTasks(workers.QueueFor(chatcore.AttachImage))
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 {
		t.Fatalf("got %d pending tasks, want 1", len(tasks))
	}
	got := tasks[0]
	if got.ID != a.ID || got.Type != workers.TypeFor(chatcore.AttachImage) || got.MaxRetry != 3 {
		t.Errorf("got task id %s type %s max retry %d, want %s %s 3", got.ID, got.Type, got.MaxRetry, a.ID, workers.TypeFor(chatcore.AttachImage))
	}
	if want := `{"attachment_id":"` + a.ID + `"}`; string(got.Payload) != want {
		t.Errorf("got payload %s, want %s", got.Payload, want)
	}
}

func TestJPEGBecomesReadyAndMembersAreTold(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	cfg := e.config()
	cfg.Registerer = reg
	e.start(t, cfg)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 1600, 1200))
	if err := e.enqueuer(t, workers.EnqueueOptions{}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}

	ev, f := e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 60*time.Second)
	slices.Sort(ev.Recipients)
	want := []string{e.alice, e.bob}
	slices.Sort(want)
	if !slices.Equal(ev.Recipients, want) {
		t.Errorf("got recipients %v, want the members %v (not the outsider %s)", ev.Recipients, want, e.carol)
	}
	if !slices.Equal(f.ConversationIDs, []string{e.conv}) {
		t.Errorf("got conversation_ids %v, want [%s]", f.ConversationIDs, e.conv)
	}

	got, err := e.store.AttachmentByID(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != chatcore.StatusReady || got.Width != 1600 || got.Height != 1200 || got.Blurhash == "" || got.Error != "" {
		t.Errorf("got status %s %dx%d blurhash %q error %q, want ready 1600x1200 with a blurhash",
			got.Status, got.Width, got.Height, got.Blurhash, got.Error)
	}
	prefix := strings.TrimSuffix(a.ObjectKey, "original")
	for _, tc := range []struct {
		variant string
		key     string
		maxSide int
	}{
		{chatcore.VariantOriginal, a.ObjectKey, 1600},
		{chatcore.VariantPreview, prefix + "preview.jpg", 1280},
		{chatcore.VariantThumbnail, prefix + "thumbnail.jpg", 320},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			v, ok := got.Variants[tc.variant]
			if !ok {
				t.Fatalf("no %s variant in %v", tc.variant, got.Variants)
			}
			if v.Key != tc.key {
				t.Errorf("got key %s, want %s", v.Key, tc.key)
			}
			rc, err := e.objects.Open(e.ctx, v.Key)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			cfg, err := jpeg.DecodeConfig(rc)
			if err != nil {
				t.Fatalf("%s is not a JPEG: %v", v.Key, err)
			}
			if max(cfg.Width, cfg.Height) > tc.maxSide || cfg.Width != v.Width || cfg.Height != v.Height {
				t.Errorf("got %dx%d (recorded %dx%d), want long side ≤ %d as recorded",
					cfg.Width, cfg.Height, v.Width, v.Height, tc.maxSide)
			}
		})
	}

	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"parley_media_jobs_total", []string{"kind", "image", "outcome", "ready"}, 1},
		{"parley_media_processing_seconds", []string{"kind", "image"}, 1},
		{"parley_media_queue_depth", []string{"queue", "image", "state", "pending"}, 0},
		{"parley_media_queue_up", []string{"queue", "voice"}, 1},
	} {
		if got, ok := metricValue(t, reg, tc.name, tc.labels...); !ok || got != tc.want {
			t.Errorf("%s%v: got %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}

func TestRerunOfReadyAttachmentChangesNothing(t *testing.T) {
	e := newEnv(t)
	h := workers.NewHandler(e.config(), nil)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 320, 240))
	task, err := workers.NewMediaTask(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(e.ctx, task); err != nil {
		t.Fatalf("first run: %v", err)
	}
	first, _ := e.store.AttachmentByID(e.ctx, a.ID)
	if err := h.ProcessTask(e.ctx, task); err != nil {
		t.Fatalf("second run: %v", err)
	}
	second, _ := e.store.AttachmentByID(e.ctx, a.ID)
	if first.Status != chatcore.StatusReady || !second.UpdatedAt.Equal(first.UpdatedAt) || second.Blurhash != first.Blurhash {
		t.Errorf("got %s updated %v then %v, want ready and untouched by the rerun", first.Status, first.UpdatedAt, second.UpdatedAt)
	}
}

func TestBadTasksAreNotRetried(t *testing.T) {
	e := newEnv(t)
	h := workers.NewHandler(e.config(), nil)
	for _, tc := range []struct {
		name string
		task *asynq.Task
	}{
		{"bad payload", asynq.NewTask(workers.TypeFor(chatcore.AttachImage), []byte("{"))},
		{"no id", asynq.NewTask(workers.TypeFor(chatcore.AttachImage), []byte(`{}`))},
		{"unknown type", asynq.NewTask("media:hologram", []byte(`{"attachment_id":"x"}`))},
		{"attachment gone", asynq.NewTask(workers.TypeFor(chatcore.AttachImage), []byte(`{"attachment_id":"`+newID()+`"}`))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := h.ProcessTask(e.ctx, tc.task)
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("got %v, want an error wrapping asynq.SkipRetry", err)
			}
		})
	}
}

func TestCorruptFileFailsAndIsArchivedAtOnce(t *testing.T) {
	e := newEnv(t)
	e.start(t, e.config())
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", []byte("\xff\xd8\xff\xe0 this is not really a jpeg"))
	if err := e.enqueuer(t, workers.EnqueueOptions{MaxRetry: 5}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	ev, f := e.bus.waitAttachment(t, a.ID, chatcore.StatusFailed, 30*time.Second)
	if f.Attachment.Error != workers.ReasonCorrupt {
		t.Errorf("got reason %q, want %q", f.Attachment.Error, workers.ReasonCorrupt)
	}
	if !slices.Contains(ev.Recipients, e.bob) {
		t.Errorf("got recipients %v, want bob (%s) among them", ev.Recipients, e.bob)
	}
	info := waitTask(t, e.inspector(t), workers.QueueFor(chatcore.AttachImage), a.ID, 10*time.Second, func(ti *asynq.TaskInfo) bool {
		return ti.State == asynq.TaskStateArchived
	})
	if info.Retried != 0 || info.LastErr != "corrupt: the file could not be decoded as its kind" {
		t.Errorf("got retried %d last error %q, want archived at once (0 retries) with the cause", info.Retried, info.LastErr)
	}
	got, _ := e.store.AttachmentByID(e.ctx, a.ID)
	if got.Status != chatcore.StatusFailed || got.Error != workers.ReasonCorrupt {
		t.Errorf("got row %s/%q, want failed/corrupt", got.Status, got.Error)
	}
}

func TestObjectStoreDownRetriesThenSucceeds(t *testing.T) {
	e := newEnv(t)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 640, 480))
	e.s3.Stop()
	e.start(t, e.config())
	if err := e.enqueuer(t, workers.EnqueueOptions{MaxRetry: 50}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	info := waitTask(t, e.inspector(t), workers.QueueFor(chatcore.AttachImage), a.ID, 60*time.Second, func(ti *asynq.TaskInfo) bool {
		return ti.Retried >= 2
	})
	if !strings.Contains(info.LastErr, "original") {
		t.Errorf("got last error %q, want the failed read of the original", info.LastErr)
	}
	if got, _ := e.store.AttachmentByID(e.ctx, a.ID); got.Status != chatcore.StatusProcessing {
		t.Errorf("while retrying: got status %s, want processing", got.Status)
	}
	e.s3.Start()
	e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 30*time.Second)
}

func TestLastTryMarksFailedThenRequeueTurnsReady(t *testing.T) {
	e := newEnv(t)
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 640, 480))
	e.s3.Stop()
	e.start(t, e.config())
	if err := e.enqueuer(t, workers.EnqueueOptions{MaxRetry: 1}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	_, f := e.bus.waitAttachment(t, a.ID, chatcore.StatusFailed, 60*time.Second)
	if f.Attachment.Error != workers.ReasonStorage {
		t.Errorf("got reason %q, want %q", f.Attachment.Error, workers.ReasonStorage)
	}

	jobs := workers.NewJobService(e.redis)
	defer jobs.Close()
	var list []chatcore.Job
	deadline := time.Now().Add(10 * time.Second)
	for len(list) == 0 && time.Now().Before(deadline) {
		var err error
		if list, err = jobs.ListJobs(e.ctx, "", "archived", 10); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	want := chatcore.Job{Queue: workers.QueueFor(chatcore.AttachImage), TaskID: a.ID, AttachmentID: a.ID, Kind: "image", State: "archived", Retried: 1, MaxRetry: 1,
		Reason: workers.ReasonStorage}
	if len(list) != 1 {
		t.Fatalf("got %d archived jobs, want 1", len(list))
	}
	got := list[0]
	if got.Error == "" || got.FailedAt.IsZero() {
		t.Errorf("got error %q failed at %v, want both set", got.Error, got.FailedAt)
	}
	got.Error, got.FailedAt = "", time.Time{}
	if got != want {
		t.Errorf("got job %+v, want %+v", got, want)
	}

	e.s3.Start() // the cause is fixed
	if err := jobs.RequeueJob(e.ctx, workers.QueueFor(chatcore.AttachImage), a.ID); err != nil {
		t.Fatal(err)
	}
	e.bus.waitAttachment(t, a.ID, chatcore.StatusProcessing, 30*time.Second)
	e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 30*time.Second)
	if row, _ := e.store.AttachmentByID(e.ctx, a.ID); row.Status != chatcore.StatusReady || row.Error != "" {
		t.Errorf("got row %s/%q, want ready with no error", row.Status, row.Error)
	}
}

func TestReasons(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("process: %w", pipeline.ErrUnsupported), workers.ReasonUnsupported},
		{fmt.Errorf("process: %w", pipeline.ErrCorrupt), workers.ReasonCorrupt},
		{fmt.Errorf("process: %w", pipeline.ErrTooLarge), workers.ReasonTooLarge},
		{fmt.Errorf("process: %w", pipeline.ErrTimeout), workers.ReasonTimeout},
		{context.DeadlineExceeded, workers.ReasonTimeout},
		{io.ErrUnexpectedEOF, workers.ReasonInternal},
	} {
		if got := workers.Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v): got %q, want %q", tc.err, got, tc.want)
		}
	}
}

// metricValue returns the value of the metric name with the given label
// pairs: a counter's or gauge's value, a histogram's sample count.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := want[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue(), true
			case m.Gauge != nil:
				return m.GetGauge().GetValue(), true
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}
