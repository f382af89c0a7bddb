package workers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/pipeline"
	"github.com/parley-chat/parley/workers"
)

func TestJobServiceErrors(t *testing.T) {
	e := newEnv(t)
	jobs := workers.NewJobService(e.redis)
	defer jobs.Close()
	a := e.attach(t, chatcore.AttachImage, "image/jpeg", testJPEG(t, 32, 32))
	if err := e.enqueuer(t, workers.EnqueueOptions{}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"list unknown queue", func() error { _, err := jobs.ListJobs(e.ctx, "nope", "archived", 10); return err }, chatcore.EInvalid},
		{"list unknown state", func() error { _, err := jobs.ListJobs(e.ctx, "", "dead", 10); return err }, chatcore.EInvalid},
		{"list a queue never used", func() error {
			_, err := jobs.ListJobs(e.ctx, workers.QueueFor(chatcore.AttachVideo), "archived", 10)
			return err
		}, ""},
		{"requeue unknown queue", func() error { return jobs.RequeueJob(e.ctx, "nope", a.ID) }, chatcore.EInvalid},
		{"requeue unknown task", func() error { return jobs.RequeueJob(e.ctx, workers.QueueFor(chatcore.AttachImage), newID()) }, chatcore.ENotFound},
		{"requeue a pending task", func() error { return jobs.RequeueJob(e.ctx, workers.QueueFor(chatcore.AttachImage), a.ID) }, chatcore.EConflict},
		{"requeue all in a bad state", func() error { _, err := jobs.RequeueAll(e.ctx, "", "pending"); return err }, chatcore.EInvalid},
		{"requeue all archived", func() error { _, err := jobs.RequeueAll(e.ctx, "", "archived"); return err }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chatcore.ErrorCode(tc.call()); got != tc.want {
				t.Errorf("got error code %q, want %q", got, tc.want)
			}
		})
	}
	list, err := jobs.ListJobs(e.ctx, "", "pending", 0)
	if err != nil || len(list) != 1 || list[0].AttachmentID != a.ID || list[0].State != "pending" {
		t.Errorf("got pending jobs %+v (err %v), want the one task of %s", list, err, a.ID)
	}
}

func TestRequeueAllArchived(t *testing.T) {
	e := newEnv(t)
	jobs := workers.NewJobService(e.redis)
	defer jobs.Close()
	insp := e.inspector(t)
	enq := e.enqueuer(t, workers.EnqueueOptions{})
	var ids []string
	for _, kind := range []chatcore.AttachmentKind{chatcore.AttachImage, chatcore.AttachImage, chatcore.AttachFile} {
		a := e.attach(t, kind, "image/jpeg", testJPEG(t, 32, 32))
		if err := enq.EnqueueAttachment(e.ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := insp.ArchiveTask(workers.QueueFor(kind), a.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if n, err := jobs.RequeueAll(e.ctx, workers.QueueFor(chatcore.AttachImage), "archived"); err != nil || n != 2 {
		t.Fatalf("requeue image: got %d (err %v), want 2", n, err)
	}
	if n, err := jobs.RequeueAll(e.ctx, "", ""); err != nil || n != 1 {
		t.Fatalf("requeue the rest: got %d (err %v), want 1", n, err)
	}
	for _, id := range ids {
		q := workers.QueueFor(chatcore.AttachImage)
		if id == ids[2] {
			q = workers.QueueFor(chatcore.AttachFile)
		}
		if info, err := insp.GetTaskInfo(q, id); err != nil || info.State != asynq.TaskStatePending {
			t.Errorf("task %s: got %+v (err %v), want pending", id, info, err)
		}
	}
}

func TestAdminUILoadsNothingFromTheInternet(t *testing.T) {
	e := newEnv(t)
	ui := workers.AdminUI(e.redis, "/admin/queues")
	defer ui.Close()
	mux := http.NewServeMux()
	mux.Handle("/admin/queues", ui)
	mux.Handle("/admin/queues/", ui)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path, wantType, wantBody string
	}{
		{"/admin/queues", "text/html", `<div id="root">`},
		{"/admin/queues/queues/image", "text/html", `<div id="root">`}, // client-side route
		{"/admin/queues/api/queues", "", `"queues"`},                   // asynqmon sends JSON without a type
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
				t.Fatalf("got %d %s, want 200 %s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.wantType)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("got body %.200s, want it to contain %s", body, tc.wantBody)
			}
			if tc.wantType == "text/html" {
				if strings.Contains(string(body), "fonts.googleapis") || strings.Contains(string(body), `href="http`) ||
					strings.Contains(string(body), `src="http`) {
					t.Errorf("page still loads external assets:\n%s", body)
				}
				if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
					t.Errorf("got CSP %q, want default-src 'self'", resp.Header.Get("Content-Security-Policy"))
				}
				if !strings.Contains(string(body), `src="/admin/queues/static/js/`) {
					t.Errorf("page does not load its scripts from /admin/queues/static: %s", body)
				}
			}
		})
	}
	// The scripts the page names are served too.
	resp, err := http.Get(srv.URL + "/admin/queues/static/js/main.5adda2da.chunk.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/javascript") {
		t.Errorf("main script: got %d %s, want 200 application/javascript", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// Every kind of the table is processed as a kind the pipeline knows.
func TestMediaKindsPipeline(t *testing.T) {
	for _, k := range chatcore.MediaKinds() {
		if pk, ok := pipeline.ParseKind(k.Pipeline); !ok || pk == pipeline.KindAuto {
			t.Errorf("%s: pipeline kind %q is not one pipeline.Process takes", k.Kind, k.Pipeline)
		}
	}
}

func TestNewMediaTask(t *testing.T) {
	for _, tc := range []struct {
		kind      chatcore.AttachmentKind
		wantType  string
		wantQueue string
	}{
		{chatcore.AttachImage, "media:image", "image"},
		{chatcore.AttachVoice, "media:voice", "voice"},
		{chatcore.AttachVideo, "media:video", "video"},
		{chatcore.AttachFile, "media:file", "file"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			task, err := workers.NewMediaTask(&chatcore.Attachment{ID: "a1", Kind: tc.kind})
			if err != nil {
				t.Fatal(err)
			}
			if task.Type() != tc.wantType || workers.QueueFor(tc.kind) != tc.wantQueue {
				t.Errorf("got type %s queue %s, want %s %s", task.Type(), workers.QueueFor(tc.kind), tc.wantType, tc.wantQueue)
			}
			p, err := workers.ParseMediaPayload(task.Payload())
			if err != nil || p.AttachmentID != "a1" {
				t.Errorf("got payload %+v (err %v), want attachment a1", p, err)
			}
		})
	}
	if _, err := workers.NewMediaTask(&chatcore.Attachment{ID: "a1", Kind: "hologram"}); err == nil {
		t.Error("unknown kind: got no error")
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	f := workers.Backoff(time.Second, time.Minute)
	for _, tc := range []struct {
		n        int
		min, max time.Duration
	}{
		{0, 750 * time.Millisecond, 1250 * time.Millisecond},
		{1, 1500 * time.Millisecond, 2500 * time.Millisecond},
		{3, 6 * time.Second, 10 * time.Second},
		{20, 45 * time.Second, 75 * time.Second},
		{1000, 45 * time.Second, 75 * time.Second},
	} {
		for range 20 {
			if got := f(tc.n, nil, nil); got < tc.min || got > tc.max {
				t.Fatalf("retry %d: got %v, want within [%v, %v]", tc.n, got, tc.min, tc.max)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	e := newEnv(t)
	good := e.config()
	for _, tc := range []struct {
		name   string
		mutate func(*workers.Config)
		ok     bool
	}{
		{"complete", func(*workers.Config) {}, true},
		{"video-only worker", func(c *workers.Config) { c.Queues = map[string]int{workers.QueueFor(chatcore.AttachVideo): 1} }, true},
		{"no store", func(c *workers.Config) { c.Store = nil }, false},
		{"no objects", func(c *workers.Config) { c.Objects = nil }, false},
		{"no bus", func(c *workers.Config) { c.Bus = nil }, false},
		{"no redis", func(c *workers.Config) { c.Redis = nil }, false},
		{"unknown queue", func(c *workers.Config) { c.Queues = map[string]int{"default": 1} }, false},
		{"negative weight", func(c *workers.Config) { c.Queues = map[string]int{workers.QueueFor(chatcore.AttachImage): -1} }, false},
		{"nothing served", func(c *workers.Config) { c.Queues = map[string]int{workers.QueueFor(chatcore.AttachImage): 0} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mutate(&c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
