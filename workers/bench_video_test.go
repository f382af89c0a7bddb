package workers_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	"github.com/parley-chat/parley/workers"
)

// BenchmarkPhotoWhileVideoTranscodes measures what the issue asks of the
// video queue: complete → ready event for a 12 MP photo, one at a time, on
// one worker process with production defaults (one task per CPU), "alone"
// and while a long video's playback transcode runs on the same worker
// ("video-transcoding": a 3 min 1080p MPEG-4 Part 2 video, which must be
// re-encoded, is enqueued first and the photos start once its poster is
// ready). video-busy reports 1 when the transcode was still running at the
// end, so the photos really shared the machine with it.
func BenchmarkPhotoWhileVideoTranscodes(b *testing.B) {
	corpus := benchCorpus(b)
	photo, err := os.ReadFile(filepath.Join(corpus, "photo12mp.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	longVideo := filepath.Join(corpus, "video1080p-180s-mpeg4.mp4")
	if _, err := os.Stat(longVideo); err != nil {
		tmp := longVideo + ".tmp.mp4"
		out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=180",
			"-f", "lavfi", "-i", "sine=d=180", "-c:v", "mpeg4", "-q:v", "6", "-c:a", "aac", "-shortest", tmp).CombinedOutput()
		if err != nil {
			b.Fatalf("ffmpeg: %v\n%s", err, out)
		}
		if err := os.Rename(tmp, longVideo); err != nil {
			b.Fatal(err)
		}
	}
	video, err := os.ReadFile(longVideo)
	if err != nil {
		b.Fatal(err)
	}
	for _, withVideo := range []bool{false, true} {
		b.Run(map[bool]string{false: "alone", true: "video-transcoding"}[withVideo], func(b *testing.B) {
			e := newEnvWith(b, true)
			watch, bus := watchBus(b, e)
			cfg := e.config()
			cfg.Bus, cfg.Concurrency, cfg.PollInterval = bus, 0, 0 // production defaults
			e.start(b, cfg)
			enq := e.enqueuer(b, workers.EnqueueOptions{})
			var v *chatcore.Attachment
			if withVideo {
				v = e.attach(b, chatcore.AttachVideo, "video/mp4", video)
				poster := watch.expect(v.ID)
				if err := enq.EnqueueAttachment(e.ctx, v); err != nil {
					b.Fatal(err)
				}
				select {
				case <-poster:
				case <-time.After(2 * time.Minute):
					b.Fatal("no poster_ready for the long video")
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				a := e.attach(b, chatcore.AttachImage, "image/jpeg", photo)
				ready := watch.expect(a.ID)
				b.StartTimer()
				start := time.Now()
				if err := enq.EnqueueAttachment(e.ctx, a); err != nil {
					b.Fatal(err)
				}
				select {
				case at := <-ready:
					lat = append(lat, at.Sub(start))
				case <-time.After(2 * time.Minute):
					b.Fatalf("no event for %s", a.ID)
				}
			}
			b.StopTimer()
			reportPercentiles(b, lat)
			if v != nil {
				got, err := e.store.AttachmentByID(e.ctx, v.ID)
				if err != nil {
					b.Fatal(err)
				}
				busy := 0.0
				if got.Step == chatcore.StepPosterReady {
					busy = 1
				}
				b.ReportMetric(busy, "video-busy")
			}
		})
	}
}
