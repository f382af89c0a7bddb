package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/hibiken/asynq"

	"github.com/parley-chat/parley/internal/testenv"
)

// The media end-to-end tests run a chat node and media workers as separate
// processes on real Postgres, Redis and versitygw, and follow uploads from
// the sender's complete to the recipient's socket.

const mediaAdminPassword = "root-password-for-e2e"

var workerReadyRE = regexp.MustCompile(`worker running`)

// mediaStack is one test's services, chat node and users: alice and bob in
// a group, bob's socket open, and an admin.
type mediaStack struct {
	t     *testing.T
	env   []string
	s3    *testenv.S3Server
	redis string
	node  *proc

	admin, alice, bob *client
	conv              string
	bs                *socket
	// frames holds the attachment frames bob's socket delivered so far, so
	// that waiting for one never loses another.
	frames *[]map[string]any
	insp   *asynq.Inspector
}

func newMediaStack(t *testing.T, extraEnv ...string) *mediaStack {
	t.Helper()
	m := &mediaStack{t: t, s3: testenv.S3(t), redis: testenv.Redis(t), frames: new([]map[string]any)}
	m.env = append([]string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(t),
		"PARLEY_REDIS_URL=" + m.redis,
		"PARLEY_JWT_SECRET=" + strings.Repeat("media-e2e-", 4),
		"PARLEY_S3_ENDPOINT=" + m.s3.Endpoint,
		"PARLEY_S3_BUCKET=parley",
		"PARLEY_S3_ACCESS_KEY=" + m.s3.AccessKey,
		"PARLEY_S3_SECRET_KEY=" + m.s3.SecretKey,
		"PARLEY_S3_REGION=" + m.s3.Region,
		"PARLEY_ADMIN_USERNAME=root",
		"PARLEY_ADMIN_PASSWORD=" + mediaAdminPassword,
		"PARLEY_LOG_LEVEL=warn",
		"PARLEY_METRICS_ADDR=127.0.0.1:0",
	}, extraEnv...)
	opt, err := asynq.ParseRedisURI(m.redis)
	if err != nil {
		t.Fatal(err)
	}
	m.insp = asynq.NewInspector(opt)
	t.Cleanup(func() { m.insp.Close() })
	m.node = start(t, m.env, nil, "serve", "-addr", "127.0.0.1:0")
	m.admin = login(t, m.node.URL, "root", mediaAdminPassword)
	m.alice = register(t, m.node.URL, "alice")
	m.bob = register(t, m.node.URL, "bob")
	var conv struct {
		Conversation struct {
			ID string `json:"id"`
		} `json:"conversation"`
	}
	m.alice.do("POST", "/v1/conversations", map[string]any{"member_ids": []string{m.bob.User.ID}, "title": "media"},
		http.StatusCreated, &conv)
	m.conv = conv.Conversation.ID
	m.bs = m.bob.dial()
	return m
}

// in returns a copy of m whose helpers fail t (a subtest) instead of the
// test that made m.
func (m *mediaStack) in(t *testing.T) *mediaStack {
	c := *m
	c.t = t
	for _, p := range []**client{&c.admin, &c.alice, &c.bob} {
		cc := **p
		cc.t = t
		*p = &cc
	}
	bs := *m.bs
	bs.t = t
	c.bs = &bs
	return &c
}

// worker starts a `parley worker` process; extraEnv overrides m.env.
func (m *mediaStack) worker(extraEnv ...string) *proc {
	m.t.Helper()
	return start(m.t, append(slices.Clone(m.env), extraEnv...), workerReadyRE, "worker")
}

// upload sends data as c's upload of kind through the presigned request,
// completes it and returns the attachment id.
func (m *mediaStack) upload(c *client, kind, contentType, name string, data []byte) string {
	m.t.Helper()
	var ticket struct {
		Upload struct {
			ID string `json:"id"`
		} `json:"upload"`
		Method  string            `json:"method"`
		URL     string            `json:"url"`
		Fields  map[string]string `json:"fields"`
		Headers map[string]string `json:"headers"`
	}
	c.do("POST", "/v1/uploads", map[string]any{
		"kind": kind, "content_type": contentType, "size": len(data), "filename": name, "conversation_id": m.conv,
	}, http.StatusCreated, &ticket)
	var req *http.Request
	var err error
	switch ticket.Method {
	case "POST":
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, v := range ticket.Fields {
			mw.WriteField(k, v)
		}
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(data)
		mw.Close()
		req, err = http.NewRequest("POST", ticket.URL, &body)
		if err == nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
	default:
		req, err = http.NewRequest(ticket.Method, ticket.URL, bytes.NewReader(data))
		for k, v := range ticket.Headers {
			if err == nil {
				req.Header.Set(k, v)
			}
		}
	}
	if err != nil {
		m.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatalf("upload to the store: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		m.t.Fatalf("upload to the store: got %d %s", resp.StatusCode, raw)
	}
	var done struct {
		Attachment map[string]any `json:"attachment"`
	}
	c.do("POST", "/v1/uploads/"+ticket.Upload.ID+"/complete", nil, http.StatusAccepted, &done)
	if done.Attachment["status"] != "processing" {
		m.t.Fatalf("complete: got status %v, want processing", done.Attachment["status"])
	}
	return ticket.Upload.ID
}

// send posts a message carrying attachment ids to the group.
func (m *mediaStack) send(c *client, ids ...string) {
	m.t.Helper()
	c.do("POST", "/v1/conversations/"+m.conv+"/messages", map[string]any{
		"client_id": "m-" + ids[0], "body": "look", "attachment_ids": ids,
	}, http.StatusCreated, nil)
}

// pause stops workers from taking tasks of queue; resume lets them again.
func (m *mediaStack) pause(queue string) {
	m.t.Helper()
	if err := m.insp.PauseQueue(queue); err != nil {
		m.t.Fatal(err)
	}
}

func (m *mediaStack) resume(queue string) {
	m.t.Helper()
	if err := m.insp.UnpauseQueue(queue); err != nil {
		m.t.Fatal(err)
	}
}

// uploadAndSend uploads data with the kind's queue paused, sends it in a
// message, checks that bob receives it still processing, and lets the
// workers at it. (Without the pause a fast worker on an idle machine may
// finish before the message is sent, and bob rightly gets it ready at once.)
func (m *mediaStack) uploadAndSend(kind, contentType, name string, data []byte) string {
	m.t.Helper()
	m.pause(kind)
	id := m.upload(m.alice, kind, contentType, name, data)
	m.sendAndExpectProcessing(id)
	m.resume(kind)
	return id
}

// sendAndExpectProcessing sends a message with the attachment and checks that
// bob receives it with the attachment still processing.
func (m *mediaStack) sendAndExpectProcessing(id string) {
	m.t.Helper()
	m.send(m.alice, id)
	msg := m.bs.expect("message", func(f map[string]any) bool {
		return attachmentIn(f["message"], id) != nil
	})
	if a := attachmentIn(msg["message"], id); a["status"] != "processing" {
		m.t.Fatalf("message reached bob with attachment %v, want status processing", a)
	}
}

// attachmentFrame waits up to timeout for an attachment frame about id in
// status (one that came earlier counts) and returns its attachment.
func (m *mediaStack) attachmentFrame(id, status string, timeout time.Duration) map[string]any {
	m.t.Helper()
	match := func(f map[string]any) map[string]any {
		a, _ := f["attachment"].(map[string]any)
		if a["id"] != id || a["status"] != status {
			return nil
		}
		if ids, _ := f["conversation_ids"].([]any); len(ids) != 1 || ids[0] != m.conv {
			m.t.Errorf("attachment frame conversation_ids: got %v, want [%s]", f["conversation_ids"], m.conv)
		}
		return a
	}
	for _, f := range *m.frames {
		if a := match(f); a != nil {
			return a
		}
	}
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-m.bs.frames:
			if !ok {
				m.t.Fatalf("bob's socket closed while waiting for %s to be %s", id, status)
			}
			if f["type"] != "attachment" {
				continue
			}
			*m.frames = append(*m.frames, f)
			if a := match(f); a != nil {
				return a
			}
		case <-deadline:
			_, row := m.alice.request("GET", "/v1/attachments/"+id, nil)
			var jobs []string
			for _, st := range []string{"pending", "active", "scheduled", "retry", "archived"} {
				for _, j := range m.jobs("", st) {
					if j["task_id"] == id {
						jobs = append(jobs, fmt.Sprint(j))
					}
				}
			}
			m.t.Fatalf("bob got no attachment frame with %s %s within %v; the attachment is %s; its jobs: %v",
				id, status, timeout, row, jobs)
		}
	}
}

// download fetches a variant as c: Parley redirects to a presigned GET.
func (m *mediaStack) download(c *client, id, variant string) []byte {
	m.t.Helper()
	status, body := c.request("GET", "/v1/attachments/"+id+"/"+variant, nil)
	if status != http.StatusFound {
		m.t.Fatalf("download %s/%s: got %d %s, want 302", id, variant, status, body)
	}
	req, _ := http.NewRequest("GET", c.base+"/v1/attachments/"+id+"/"+variant, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req) // follows the redirect
	if err != nil {
		m.t.Fatalf("download %s/%s: %v", id, variant, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("download %s/%s from the store: got %d %s", id, variant, resp.StatusCode, b)
	}
	return b
}

// jobs lists media jobs through the admin API.
func (m *mediaStack) jobs(queue, state string) []map[string]any {
	m.t.Helper()
	var out struct {
		Jobs []map[string]any `json:"jobs"`
	}
	m.admin.do("GET", "/v1/admin/jobs?queue="+queue+"&state="+state, nil, http.StatusOK, &out)
	return out.Jobs
}

// waitJob polls the admin API until the task id is in state.
func (m *mediaStack) waitJob(queue, state, id string, timeout time.Duration) map[string]any {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, j := range m.jobs(queue, state) {
			if j["task_id"] == id {
				return j
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var now []string
	for _, st := range []string{"pending", "active", "scheduled", "retry", "archived"} {
		for _, j := range m.jobs(queue, st) {
			if j["task_id"] == id {
				now = append(now, fmt.Sprint(j))
			}
		}
	}
	m.t.Fatalf("job %s/%s not %s within %v; it is %v", queue, id, state, timeout, now)
	return nil
}

func attachmentIn(msg any, id string) map[string]any {
	mm, _ := msg.(map[string]any)
	list, _ := mm["attachments"].([]any)
	for _, a := range list {
		if am, _ := a.(map[string]any); am["id"] == id {
			return am
		}
	}
	return nil
}

func variant(a map[string]any, name string) map[string]any {
	vs, _ := a["variants"].(map[string]any)
	v, _ := vs[name].(map[string]any)
	return v
}

// mediaCorpus makes the inputs once per test binary: the benchmark corpus
// of pipeline/testdata/mkcorpus.sh (a 12 MP photo, 60 s of AAC voice, a 5 s
// 1080p H.264 video) plus a 14 minute voice note of pink noise that keeps a
// worker busy for seconds (a pure tone would encode in under one).
var mediaCorpusOnce struct {
	sync.Once
	dir string
	err error
}

func mediaCorpus(t testing.TB) string {
	t.Helper()
	mediaCorpusOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "parley-bench-corpus")
		mediaCorpusOnce.dir = dir
		if _, err := os.Stat(filepath.Join(dir, "video1080p.mp4")); err != nil {
			// Made aside and renamed into place: other test binaries may
			// read it at the same time.
			script, _ := filepath.Abs("../../pipeline/testdata/mkcorpus.sh")
			tmp, err := os.MkdirTemp(os.TempDir(), "parley-bench-corpus-*")
			if err != nil {
				mediaCorpusOnce.err = err
				return
			}
			if out, err := exec.Command("bash", script, tmp, "bench").CombinedOutput(); err != nil {
				os.RemoveAll(tmp)
				mediaCorpusOnce.err = fmt.Errorf("mkcorpus: %v\n%s", err, out)
				return
			}
			if err := os.Rename(tmp, dir); err != nil {
				os.RemoveAll(tmp) // another binary was quicker
			}
		}
		long := filepath.Join(dir, "voice14min.m4a")
		if _, err := os.Stat(long); err != nil {
			tmp := fmt.Sprintf("%s.%d.m4a", long, os.Getpid())
			out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
				"-f", "lavfi", "-i", "anoisesrc=d=840:c=pink:r=48000:a=0.3", "-c:a", "aac", "-b:a", "48k", "-ac", "1", tmp).CombinedOutput()
			if err == nil {
				err = os.Rename(tmp, long)
			}
			if err != nil {
				mediaCorpusOnce.err = fmt.Errorf("ffmpeg: %v\n%s", err, out)
			}
		}
	})
	if mediaCorpusOnce.err != nil {
		t.Fatal(mediaCorpusOnce.err)
	}
	return mediaCorpusOnce.dir
}

func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mediaCorpus(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corruptJPEG starts like a JPEG (so complete accepts it) and then is noise.
func corruptJPEG() []byte {
	b := []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	for i := range 4096 {
		b = append(b, byte(i*7+3))
	}
	return b
}

// oggOpusBitrate checks an Ogg Opus file's head and returns its bitrate in
// kbit/s over durationMS.
func oggOpusBitrate(t *testing.T, b []byte, durationMS float64) float64 {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("OggS")) || !bytes.Contains(b[:min(len(b), 200)], []byte("OpusHead")) {
		t.Fatalf("audio variant is not Ogg Opus: % x", b[:min(len(b), 40)])
	}
	// The granule position of the last page counts 48 kHz samples.
	last := bytes.LastIndex(b, []byte("OggS"))
	if last < 0 || last+14 > len(b) {
		t.Fatal("audio variant has no last Ogg page")
	}
	var granule uint64
	for i := 7; i >= 0; i-- {
		granule = granule<<8 | uint64(b[last+6+i])
	}
	if granule == 0 {
		t.Errorf("last Ogg page has granule 0")
	}
	return float64(len(b)) * 8 / durationMS
}

func TestMediaReachesMembersThroughSeparateWorker(t *testing.T) {
	m := newMediaStack(t)
	metrics := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	m.worker("PARLEY_METRICS_ADDR=" + metrics)
	photo, voice, video := readCorpus(t, "photo12mp.jpg"), readCorpus(t, "voice60s.m4a"), readCorpus(t, "video1080p.mp4")

	t.Run("photo", func(t *testing.T) {
		m := m.in(t)
		id := m.uploadAndSend("image", "image/jpeg", "IMG_0001.jpg", photo)
		a := m.attachmentFrame(id, "ready", 60*time.Second)
		if a["blurhash"] == "" || a["blurhash"] == nil || a["width"] != 4032.0 || a["height"] != 3024.0 {
			t.Errorf("ready photo: got %vx%v blurhash %v, want 4032x3024 with a blurhash", a["width"], a["height"], a["blurhash"])
		}
		for _, tc := range []struct {
			variant string
			maxSide int
		}{{"preview", 1280}, {"thumbnail", 320}} {
			if variant(a, tc.variant) == nil {
				t.Fatalf("ready photo has no %s variant: %v", tc.variant, a["variants"])
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(m.download(m.bob, id, tc.variant)))
			if err != nil {
				t.Fatalf("%s is not a JPEG: %v", tc.variant, err)
			}
			if max(cfg.Width, cfg.Height) != tc.maxSide {
				t.Errorf("%s: got %dx%d, want long side %d", tc.variant, cfg.Width, cfg.Height, tc.maxSide)
			}
		}
	})

	t.Run("voice", func(t *testing.T) {
		m := m.in(t)
		id := m.uploadAndSend("voice", "audio/mp4", "voice.m4a", voice)
		a := m.attachmentFrame(id, "ready", 60*time.Second)
		dur, _ := a["duration_ms"].(float64)
		wave, _ := a["waveform"].([]any)
		if dur < 59_500 || dur > 60_500 || len(wave) != 64 || variant(a, "audio") == nil {
			t.Fatalf("ready voice: got duration %v ms, %d waveform values, audio %v; want ~60000 ms, 64, an audio variant",
				dur, len(wave), variant(a, "audio"))
		}
		kbps := oggOpusBitrate(t, m.download(m.bob, id, "audio"), dur)
		if kbps < 24*0.85 || kbps > 24*1.15 {
			t.Errorf("audio variant: got %.1f kbit/s, want 24 ±15%%", kbps)
		}
	})

	t.Run("video", func(t *testing.T) {
		m := m.in(t)
		id := m.uploadAndSend("video", "video/mp4", "clip.mp4", video)
		a := m.attachmentFrame(id, "ready", 60*time.Second)
		if a["blurhash"] == "" || a["blurhash"] == nil || variant(a, "poster") == nil || a["width"] != 1920.0 {
			t.Fatalf("ready video: got width %v blurhash %v poster %v, want 1920 wide with both", a["width"], a["blurhash"], variant(a, "poster"))
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(m.download(m.bob, id, "poster")))
		if err != nil || cfg.Width != 1280 {
			t.Errorf("poster: got %dx%d (err %v), want a 1280 px wide JPEG", cfg.Width, cfg.Height, err)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		m := m.in(t)
		id := m.uploadAndSend("image", "image/jpeg", "broken.jpg", corruptJPEG())
		a := m.attachmentFrame(id, "failed", 60*time.Second)
		if a["error"] != "corrupt" {
			t.Errorf("failed attachment: got error %v, want corrupt", a["error"])
		}
		j := m.waitJob("image", "archived", id, 10*time.Second)
		if j["attachment_id"] != id || j["kind"] != "image" || j["retried"] != 0.0 || j["error"] == "" {
			t.Errorf("archived job: got %v, want attachment %s, kind image, no retries, an error", j, id)
		}
	})

	t.Run("worker metrics", func(t *testing.T) {
		resp, err := http.Get("http://" + metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			`parley_media_jobs_total{kind="image",outcome="ready"} 1`,
			`parley_media_jobs_total{kind="image",outcome="failed"} 1`,
			`parley_media_jobs_total{kind="voice",outcome="ready"} 1`,
			`parley_media_processing_seconds_count{kind="video"} 1`,
			`parley_media_queue_depth{queue="image",state="archived"} 1`,
			`parley_media_queue_latency_seconds{queue="voice"} 0`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("worker /metrics lacks %s", want)
			}
		}
	})

	t.Run("non-admins get 403 on admin routes", func(t *testing.T) {
		m := m.in(t)
		for _, tc := range []struct{ method, path string }{
			{"GET", "/v1/admin/jobs?state=archived"},
			{"POST", "/v1/admin/jobs/image/" + "x" + "/requeue"},
			{"POST", "/v1/admin/jobs/requeue"},
			{"GET", "/admin/queues/"},
			{"GET", "/admin/queues/api/queues"},
		} {
			var body any
			if tc.method == "POST" {
				body = map[string]any{"queue": "image", "state": "archived"}
			}
			if status, raw := m.bob.request(tc.method, tc.path, body); status != http.StatusForbidden {
				t.Errorf("bob %s %s: got %d %s, want 403", tc.method, tc.path, status, raw)
			}
		}
		status, page := m.admin.request("GET", "/admin/queues/", nil)
		if status != http.StatusOK || !bytes.Contains(page, []byte(`<div id="root">`)) || bytes.Contains(page, []byte("googleapis")) {
			t.Errorf("admin /admin/queues/: got %d, want the dashboard with no external assets:\n%.300s", status, page)
		}
	})
}

func TestMediaRetriesAndAdminRequeue(t *testing.T) {
	t.Parallel() // mostly waits: on backoff, on asynq's lease
	m := newMediaStack(t, "PARLEY_WORKER_MAX_RETRY=2")
	m.worker()
	photo := readCorpus(t, "photo12mp.jpg")
	// uploadWhileStoreIsDown uploads two photos (the store must be up for
	// that) with the image queue paused, then stops the store and lets the
	// worker at them.
	uploadWhileStoreIsDown := func(names ...string) []string {
		t.Helper()
		m.pause("image")
		var ids []string
		for _, n := range names {
			// Each photo's bytes differ (a JPEG comment with its name):
			// the same bytes again would be deduplicated at complete
			// and ready at once, with no job to fail.
			ids = append(ids, m.upload(m.alice, "image", "image/jpeg", n, jpegWithComment(photo, n)))
		}
		m.send(m.alice, ids...)
		m.s3.Stop()
		m.resume("image")
		return ids
	}

	// The store is down for the first tries: they fail and are retried with
	// backoff; once it is back they succeed.
	ab := uploadWhileStoreIsDown("a.jpg", "b.jpg")
	j := m.waitJob("image", "retry", ab[0], 60*time.Second)
	if j["retried"] != 1.0 || !strings.Contains(fmt.Sprint(j["error"]), "original") {
		t.Errorf("job waiting to retry: got %v, want 1 retry after failing to read the original", j)
	}
	m.s3.Start()
	for _, id := range ab {
		m.attachmentFrame(id, "ready", 60*time.Second)
	}

	// The store stays down through every try: the uploads fail for good
	// and their jobs are archived. Once it is back an admin requeues one
	// through the API and one through the CLI, and they turn ready.
	cd := uploadWhileStoreIsDown("c.jpg", "d.jpg")
	for _, id := range cd {
		if got := m.attachmentFrame(id, "failed", 120*time.Second); got["error"] != "storage" {
			t.Errorf("attachment %s failed with %v, want storage", id, got["error"])
		}
		if j := m.waitJob("image", "archived", id, 10*time.Second); j["retried"] != 2.0 || j["max_retry"] != 2.0 {
			t.Errorf("archived job: got %v, want 2 of 2 retries used", j)
		}
	}
	m.s3.Start()

	m.admin.do("POST", "/v1/admin/jobs/image/"+cd[0]+"/requeue", nil, http.StatusOK, nil)
	m.attachmentFrame(cd[0], "processing", 30*time.Second)
	m.attachmentFrame(cd[0], "ready", 60*time.Second)

	out, err := exec.Command(binary(t), "jobs", "requeue", "-redis-url", m.redis, "-queue", "image", "-task", cd[1]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "requeued") {
		t.Fatalf("parley jobs requeue: %v\n%s", err, out)
	}
	m.attachmentFrame(cd[1], "ready", 60*time.Second)
	out, err = exec.Command(binary(t), "jobs", "list", "-redis-url", m.redis, "-state", "archived").CombinedOutput()
	if err != nil || strings.Contains(string(out), cd[0]) || strings.Contains(string(out), cd[1]) {
		t.Errorf("parley jobs list after the requeues: %v\n%s\nwant neither %v archived", err, out, cd)
	}
}

// jpegWithComment returns jpg with a COM segment holding text right after
// its SOI marker: the same picture, other bytes.
func jpegWithComment(jpg []byte, text string) []byte {
	seg := []byte{0xFF, 0xFE, 0, byte(len(text) + 2)}
	out := append([]byte{}, jpg[:2]...)
	out = append(append(out, seg...), text...)
	return append(out, jpg[2:]...)
}

func TestMediaJobSurvivesKilledWorker(t *testing.T) {
	t.Parallel() // mostly waits: on backoff, on asynq's lease
	m := newMediaStack(t)
	long := readCorpus(t, "voice14min.m4a")
	w1 := m.worker()
	id := m.upload(m.alice, "voice", "audio/mp4", "long.m4a", long)
	m.send(m.alice, id)
	m.waitJob("voice", "active", id, 30*time.Second)
	w1.Kill() // kill -9 mid-job: no goodbye, the task stays active with a lease
	killed := time.Now()
	if j := m.waitJob("voice", "active", id, time.Second); j == nil {
		t.Fatal("the job finished before the worker was killed")
	}

	// asynq hands a task back once its lease (30 s, renewed every few
	// seconds) has been expired for 30 s more; a worker that starts after
	// that recovers it at once.
	time.Sleep(time.Until(killed.Add(61 * time.Second)))
	m.worker()
	a := m.attachmentFrame(id, "ready", 90*time.Second)
	if dur, _ := a["duration_ms"].(float64); dur < 839_000 || dur > 841_000 {
		t.Errorf("ready voice note: got duration %v ms, want ~840000", dur)
	}
}

// The benchmarks below need testing.TB, which the end-to-end helpers do not
// take, so they carry small helpers of their own.

// mediaBinary builds parley without the race detector, once.
var mediaBin struct {
	sync.Once
	path string
	err  error
}

func mediaBinary(tb testing.TB) string {
	tb.Helper()
	mediaBin.Do(func() {
		dir, err := os.MkdirTemp("", "parley-media-bench")
		if err != nil {
			mediaBin.err = err
			return
		}
		mediaBin.path = filepath.Join(dir, "parley")
		if out, err := exec.Command("go", "build", "-o", mediaBin.path, ".").CombinedOutput(); err != nil {
			mediaBin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if mediaBin.err != nil {
		tb.Fatal(mediaBin.err)
	}
	return mediaBin.path
}

// mediaStart runs parley args... until tb ends and returns the URL it
// listens on (if it prints one) once a line matches ready.
func mediaStart(tb testing.TB, env []string, ready *regexp.Regexp, args ...string) string {
	tb.Helper()
	cmd := exec.Command(mediaBinary(tb), args...)
	cmd.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	var mu sync.Mutex
	cmd.Stderr = writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return logs.Write(b) })
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	})
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	url := ""
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				mu.Lock()
				defer mu.Unlock()
				tb.Fatalf("parley %v exited:\n%s", args, logs.String())
			}
			if m := listenRE.FindStringSubmatch(line); m != nil {
				url = m[1]
			}
			if ready.MatchString(line) {
				return url
			}
		case <-timeout:
			tb.Fatalf("parley %v not ready after 60s", args)
		}
	}
}

// mediaUser is a registered user with a token.
type mediaUser struct {
	tb    testing.TB
	base  string
	token string
	id    string
}

func mediaRegister(tb testing.TB, base, name string) *mediaUser {
	tb.Helper()
	u := &mediaUser{tb: tb, base: base}
	var out struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken string `json:"access_token"`
	}
	u.do("POST", "/v1/auth/register", map[string]any{"username": name, "password": "correct horse battery"}, http.StatusCreated, &out)
	u.id, u.token = out.User.ID, out.AccessToken
	return u
}

func (u *mediaUser) do(method, path string, body any, want int, out any) {
	u.tb.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if u.token != "" {
		req.Header.Set("Authorization", "Bearer "+u.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		u.tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		u.tb.Fatalf("%s %s: got %d %s, want %d", method, path, resp.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			u.tb.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// put creates an upload and sends its bytes; complete is left to the caller.
func (u *mediaUser) put(conv, kind, contentType string, data []byte) string {
	u.tb.Helper()
	var ticket struct {
		Upload struct {
			ID string `json:"id"`
		} `json:"upload"`
		URL    string            `json:"url"`
		Fields map[string]string `json:"fields"`
	}
	u.do("POST", "/v1/uploads", map[string]any{"kind": kind, "content_type": contentType, "size": len(data),
		"filename": "f", "conversation_id": conv}, http.StatusCreated, &ticket)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range ticket.Fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "f")
	fw.Write(data)
	mw.Close()
	resp, err := http.Post(ticket.URL, mw.FormDataContentType(), &body)
	if err != nil {
		u.tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		u.tb.Fatalf("upload to the store: %d", resp.StatusCode)
	}
	return ticket.Upload.ID
}

// mediaWatch reads a socket and reports when each attachment turns ready.
type mediaWatch struct {
	mu      sync.Mutex
	waiters map[string]chan time.Time
}

func mediaDial(tb testing.TB, u *mediaUser) *mediaWatch {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(u.base, "http")+"/v1/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + u.token}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	w := &mediaWatch{waiters: map[string]chan time.Time{}}
	go func() {
		for {
			type att struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			var f struct {
				Type       string `json:"type"`
				Attachment att    `json:"attachment"`
				Message    struct {
					Attachments []att `json:"attachments"`
				} `json:"message"`
			}
			if err := wsjson.Read(ctx, conn, &f); err != nil {
				return
			}
			at := time.Now()
			// A message sent after its attachment turned ready carries it
			// ready: that counts as well.
			for _, a := range append(f.Message.Attachments, f.Attachment) {
				if a.Status != "ready" && a.Status != "failed" {
					continue
				}
				w.mu.Lock()
				ch := w.waiters[a.ID]
				w.mu.Unlock()
				if ch != nil {
					select {
					case ch <- at:
					default:
					}
				}
			}
		}
	}()
	return w
}

func (w *mediaWatch) expect(id string) chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiters[id] = ch
	w.mu.Unlock()
	return ch
}

// mediaBench is a chat node, some worker processes and two members of a
// conversation, bob with his socket open.
type mediaBench struct {
	alice *mediaUser
	conv  string
	watch *mediaWatch
	redis string
}

func newMediaBench(tb testing.TB, workers int) *mediaBench {
	tb.Helper()
	s3 := testenv.S3(tb)
	st := &mediaBench{redis: testenv.Redis(tb)}
	env := []string{
		"PARLEY_DATABASE_URL=" + testenv.Postgres(tb),
		"PARLEY_REDIS_URL=" + st.redis,
		"PARLEY_JWT_SECRET=" + strings.Repeat("media-bench-", 4),
		"PARLEY_S3_ENDPOINT=" + s3.Endpoint, "PARLEY_S3_BUCKET=parley",
		"PARLEY_S3_ACCESS_KEY=" + s3.AccessKey, "PARLEY_S3_SECRET_KEY=" + s3.SecretKey, "PARLEY_S3_REGION=" + s3.Region,
		"PARLEY_LOG_LEVEL=warn", "PARLEY_METRICS_ADDR=127.0.0.1:0",
		"PARLEY_UPLOADS_PER_MINUTE=100000", "PARLEY_UPLOAD_DAILY_BYTES=1000000000000",
	}
	base := mediaStart(tb, env, listenRE, "serve", "-addr", "127.0.0.1:0")
	for range workers {
		mediaStart(tb, env, workerReadyRE, "worker")
	}
	st.alice = mediaRegister(tb, base, "alice")
	bob := mediaRegister(tb, base, "bob")
	var conv struct {
		Conversation struct {
			ID string `json:"id"`
		} `json:"conversation"`
	}
	st.alice.do("POST", "/v1/conversations", map[string]any{"member_ids": []string{bob.id}}, http.StatusCreated, &conv)
	st.conv = conv.Conversation.ID
	st.watch = mediaDial(tb, bob)
	return st
}

// BenchmarkMediaCompleteToEvent measures, one upload at a time with one
// worker process, the time from the start of POST /v1/uploads/{id}/complete
// to the ready attachment frame on the other member's socket; the bytes are
// already in the store (untimed), and the message carrying the attachment is
// sent right after complete, as a client does.
func BenchmarkMediaCompleteToEvent(b *testing.B) {
	for _, tc := range []struct{ name, file, kind, contentType string }{
		{"photo12mp", "photo12mp.jpg", "image", "image/jpeg"},
		{"voice60s", "voice60s.m4a", "voice", "audio/mp4"},
		{"video1080p", "video1080p.mp4", "video", "video/mp4"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data := readCorpus(b, tc.file)
			st := newMediaBench(b, 1)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				id := st.alice.put(st.conv, tc.kind, tc.contentType, data)
				ready := st.watch.expect(id)
				b.StartTimer()
				start := time.Now()
				st.alice.do("POST", "/v1/uploads/"+id+"/complete", nil, http.StatusAccepted, nil)
				st.alice.do("POST", "/v1/conversations/"+st.conv+"/messages", map[string]any{
					"client_id": fmt.Sprintf("b-%d", i), "body": "x", "attachment_ids": []string{id}}, http.StatusCreated, nil)
				select {
				case at := <-ready:
					lat = append(lat, at.Sub(start))
				case <-time.After(2 * time.Minute):
					b.Fatalf("no ready frame for %s", id)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			pct := func(p float64) float64 {
				return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkMediaPhotosPerSecond completes a burst of 12 MP photos at once
// (their bytes already stored) and measures photos/s to the last ready
// frame on the other member's socket, with one and with two worker processes.
func BenchmarkMediaPhotosPerSecond(b *testing.B) {
	data := readCorpus(b, "photo12mp.jpg")
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			st := newMediaBench(b, workers)
			b.StopTimer()
			ids := make([]string, b.N)
			readies := make([]chan time.Time, b.N)
			for i := range b.N {
				ids[i] = st.alice.put(st.conv, "image", "image/jpeg", data)
				readies[i] = st.watch.expect(ids[i])
			}
			b.StartTimer()
			start := time.Now()
			for i, id := range ids {
				st.alice.do("POST", "/v1/uploads/"+id+"/complete", nil, http.StatusAccepted, nil)
				st.alice.do("POST", "/v1/conversations/"+st.conv+"/messages", map[string]any{
					"client_id": fmt.Sprintf("burst-%d", i), "body": "x", "attachment_ids": []string{id}},
					http.StatusCreated, nil)
			}
			for i, ch := range readies {
				select {
				case <-ch:
				case <-time.After(5 * time.Minute):
					b.Fatalf("no ready frame for %s", ids[i])
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "photos/s")
		})
	}
}

func TestMediaWorkerSIGTERMHandsTaskBack(t *testing.T) {
	t.Parallel()
	m := newMediaStack(t, "PARLEY_SHUTDOWN_TIMEOUT=1s")
	long := readCorpus(t, "voice14min.m4a")
	w1 := m.worker()
	id := m.upload(m.alice, "voice", "audio/mp4", "long.m4a", long)
	m.send(m.alice, id)
	m.waitJob("voice", "active", id, 30*time.Second)
	begin := time.Now()
	w1.Stop() // SIGTERM: stop taking tasks, give in-flight ones 1 s, hand the rest back
	if took := time.Since(begin); took > 15*time.Second {
		t.Errorf("worker took %v to stop, want about its 1s shutdown timeout", took)
	}
	j := m.waitJob("voice", "pending", id, 5*time.Second)
	if j["retried"] != 0.0 {
		t.Errorf("handed-back job: got %v retries, want 0 (a shutdown is not a failure)", j["retried"])
	}
	var got struct {
		Attachment map[string]any `json:"attachment"`
	}
	m.alice.do("GET", "/v1/attachments/"+id, nil, http.StatusOK, &got)
	if got.Attachment["status"] != "processing" {
		t.Errorf("after the hand-back: got status %v, want processing", got.Attachment["status"])
	}
	m.worker()
	m.attachmentFrame(id, "ready", 90*time.Second)
}
