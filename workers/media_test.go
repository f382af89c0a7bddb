package workers_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/workers"
)

// waitFrame waits for an attachment frame about id that ok accepts.
func waitFrame(tb testing.TB, b *recBus, id string, timeout time.Duration, what string, ok func(*chatcore.Attachment) bool) *chatcore.Attachment {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		evs := slices.Clone(b.events)
		b.mu.Unlock()
		for _, ev := range evs {
			var f chatcore.AttachmentFrame
			if err := json.Unmarshal(ev.Frame, &f); err != nil {
				tb.Fatalf("frame %s: %v", ev.Frame, err)
			}
			if f.Type == chatcore.FrameAttachment && f.Attachment != nil && f.Attachment.ID == id && ok(f.Attachment) {
				return f.Attachment
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("no frame for %s where %s within %v", id, what, timeout)
	return nil
}

// ffmpegFile makes a media file with ffmpeg and returns its bytes.
func ffmpegFile(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-nostdin", "-loglevel", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg (run deploy/deps.sh): %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// fetchObject copies a stored object into a temporary file.
func (e *env) fetchObject(tb testing.TB, key, name string) string {
	tb.Helper()
	rc, err := e.objects.Open(e.ctx, key)
	if err != nil {
		tb.Fatalf("open %s: %v", key, err)
	}
	defer rc.Close()
	p := filepath.Join(tb.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		tb.Fatal(err)
	}
	return p
}

// gpsTags lists the location and device tags exiftool finds in a file.
func gpsTags(tb testing.TB, path string) []string {
	tb.Helper()
	out, err := exec.Command("exiftool", "-G", "-a", "-s", path).Output()
	if err != nil {
		tb.Fatalf("exiftool (run deploy/deps.sh): %v", err)
	}
	var found []string
	for _, line := range strings.Split(string(out), "\n") {
		l := strings.ToLower(line)
		if strings.Contains(l, "gps") || strings.Contains(l, "parleycam") {
			found = append(found, strings.TrimSpace(line))
		}
	}
	return found
}

// TestVideoPosterThenPlayback: an HEVC video with a location becomes ready
// with its poster first (step poster_ready, no playback yet), then gets an
// H.264 High playback variant and an original without the location.
func TestVideoPosterThenPlayback(t *testing.T) {
	e := newEnv(t)
	e.start(t, e.config())
	data := ffmpegFile(t, "in.mov", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-f", "lavfi", "-i", "sine=d=2",
		"-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1", "-c:a", "aac", "-shortest",
		"-movflags", "use_metadata_tags", "-metadata", "com.apple.quicktime.location.ISO6709=+48.8584+002.2945/",
		"-metadata", "com.apple.quicktime.make=ParleyCam")
	a := e.attach(t, chatcore.AttachVideo, "video/quicktime", data)
	if err := e.enqueuer(t, workers.EnqueueOptions{}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	first := waitFrame(t, e.bus, a.ID, 60*time.Second, "ready", func(a *chatcore.Attachment) bool {
		return a.Status == chatcore.StatusReady
	})
	if first.Step != chatcore.StepPosterReady || first.DurationMS < 1900 || first.Width != 320 {
		t.Errorf("first ready frame: step %q %d ms %dx%d, want poster_ready 2000 ms 320x240", first.Step, first.DurationMS, first.Width, first.Height)
	}
	if _, ok := first.Variants[chatcore.VariantPoster]; !ok {
		t.Error("poster_ready without a poster")
	}
	if _, ok := first.Variants[chatcore.VariantPlayback]; ok {
		t.Error("playback variant before the playback step")
	}
	done := waitFrame(t, e.bus, a.ID, 120*time.Second, "ready, step done", func(a *chatcore.Attachment) bool {
		return a.Status == chatcore.StatusReady && a.Step == ""
	})
	got, err := e.store.AttachmentByID(e.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != "" || len(got.SHA256) != 64 || done.Variants[chatcore.VariantPlayback].ContentType != "video/mp4" {
		t.Errorf("stored step %q sha256 %q, frame variants %v", got.Step, got.SHA256, done.Variants)
	}
	pb := e.fetchObject(t, got.Variants[chatcore.VariantPlayback].Key, "playback.mp4")
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,profile",
		"-of", "csv=p=0", pb).Output()
	if err != nil || strings.TrimSpace(string(out)) != "h264,High" {
		t.Errorf("playback is %q (%v), want h264,High", out, err)
	}
	orig := got.Variants[chatcore.VariantOriginal]
	if orig.Key == a.ObjectKey || orig.ContentType != "video/quicktime" {
		t.Errorf("original variant %+v, want a stripped MOV apart from the upload", orig)
	}
	if tags := gpsTags(t, e.fetchObject(t, orig.Key, "original.mov")); len(tags) > 0 {
		t.Errorf("served original still has %v", tags)
	}
	if tags := gpsTags(t, e.fetchObject(t, a.ObjectKey, "upload.mov")); len(tags) == 0 {
		t.Error("test upload had no location to remove")
	}
}

// TestPhotoOriginalStripped: the original members download has no GPS;
// with KeepMetadata the upload itself is served.
func TestPhotoOriginalStripped(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "stripped", true: "kept"}[keep], func(t *testing.T) {
			e := newEnv(t)
			cfg := e.config()
			cfg.Limits.KeepMetadata = keep
			e.start(t, cfg)
			p := filepath.Join(t.TempDir(), "gps.jpg")
			if err := os.WriteFile(p, testJPEG(t, 800, 600), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("exiftool", "-q", "-overwrite_original", "-GPSLatitude=48.8584", "-GPSLatitudeRef=N",
				"-Make=ParleyCam", "-Orientation#=6", p).CombinedOutput(); err != nil {
				t.Fatalf("exiftool: %v %s", err, out)
			}
			data, _ := os.ReadFile(p)
			a := e.attach(t, chatcore.AttachImage, "image/jpeg", data)
			if err := e.enqueuer(t, workers.EnqueueOptions{}).EnqueueAttachment(e.ctx, a); err != nil {
				t.Fatal(err)
			}
			e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 60*time.Second)
			got, err := e.store.AttachmentByID(e.ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			orig := got.Variants[chatcore.VariantOriginal]
			tags := gpsTags(t, e.fetchObject(t, orig.Key, "original.jpg"))
			if keep != (len(tags) > 0) || keep != (orig.Key == a.ObjectKey) {
				t.Errorf("keep %v: original %s has %v", keep, orig.Key, tags)
			}
			out, _ := exec.Command("exiftool", "-s3", "-n", "-Orientation", e.fetchObject(t, orig.Key, "o.jpg")).Output()
			if strings.TrimSpace(string(out)) != "6" {
				t.Errorf("orientation %q, want 6 kept", out)
			}
			if got.Width != 600 || got.Height != 800 {
				t.Errorf("%dx%d, want 600x800 as displayed", got.Width, got.Height)
			}
		})
	}
}

// TestGIFAnimated: an animated GIF stays an image, marked animated, with an
// MP4 animation variant and a poster.
func TestGIFAnimated(t *testing.T) {
	e := newEnv(t)
	e.start(t, e.config())
	data := ffmpegFile(t, "a.gif", "-f", "lavfi", "-i", "testsrc2=s=200x150:r=10:d=1")
	a := e.attach(t, chatcore.AttachImage, "image/gif", data)
	if err := e.enqueuer(t, workers.EnqueueOptions{}).EnqueueAttachment(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	_, f := e.bus.waitAttachment(t, a.ID, chatcore.StatusReady, 60*time.Second)
	got := f.Attachment
	if got.Kind != chatcore.AttachImage || !got.Animated || got.FrameCount != 10 || got.DurationMS != 1000 {
		t.Errorf("got %s animated=%v %d frames %d ms, want image animated 10 frames 1000 ms", got.Kind, got.Animated, got.FrameCount, got.DurationMS)
	}
	for _, v := range []string{chatcore.VariantAnimation, chatcore.VariantPoster, chatcore.VariantPreview} {
		if _, ok := got.Variants[v]; !ok {
			t.Errorf("no %s variant in %v", v, got.Variants)
		}
	}
	if v := got.Variants[chatcore.VariantAnimation]; v.ContentType != "video/mp4" || v.Width != 200 || v.Height != 150 {
		t.Errorf("animation %+v", v)
	}
	stored, err := e.store.AttachmentByID(e.ctx, a.ID)
	if err != nil || !stored.Animated || stored.FrameCount != 10 {
		t.Errorf("stored animated=%v frames=%d (%v)", stored.Animated, stored.FrameCount, err)
	}
}
