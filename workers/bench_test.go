package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
	chatredis "github.com/parley-chat/parley/chatcore/redis"
	"github.com/parley-chat/parley/workers"
)

// benchCorpus returns the directory holding pipeline/testdata/mkcorpus.sh's
// benchmark inputs (photo12mp.jpg, voice60s.m4a, video1080p.mp4), made
// once per machine and kept in the temp directory.
func benchCorpus(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), "parley-bench-corpus")
	if _, err := os.Stat(filepath.Join(dir, "video1080p.mp4")); err == nil {
		return dir
	}
	script, err := filepath.Abs("../pipeline/testdata/mkcorpus.sh")
	if err != nil {
		b.Fatal(err)
	}
	// Made aside and renamed into place: other test binaries may read it.
	tmp, err := os.MkdirTemp(os.TempDir(), "parley-bench-corpus-*")
	if err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("bash", script, tmp, "bench").CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		b.Fatalf("mkcorpus: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp) // another binary was quicker
	}
	return dir
}

// busWatch subscribes to the real Redis event bus, as a chat node does, and
// hands each attachment frame's arrival to whoever waits for that attachment.
type busWatch struct {
	mu      sync.Mutex
	waiters map[string]chan time.Time
}

func watchBus(b *testing.B, e *env) (*busWatch, chatcore.Bus) {
	b.Helper()
	// Pub/sub channels ignore database numbers: a private prefix keeps
	// parallel test binaries apart.
	bus := chatredis.NewBus(e.rdb, chatredis.BusOptions{Prefix: "bench:" + newID() + ":"})
	b.Cleanup(func() { bus.Close() })
	w := &busWatch{waiters: map[string]chan time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	err := bus.Subscribe(ctx, func(ev chatcore.Event) {
		at := time.Now()
		var f chatcore.AttachmentFrame
		if json.Unmarshal(ev.Frame, &f) != nil || f.Attachment == nil || f.Attachment.Status == chatcore.StatusProcessing {
			return
		}
		w.mu.Lock()
		ch := w.waiters[f.Attachment.ID]
		w.mu.Unlock()
		if ch != nil {
			select {
			case ch <- at:
			default:
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	return w, bus
}

func (w *busWatch) expect(id string) chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.waiters[id] = ch
	w.mu.Unlock()
	return ch
}

// BenchmarkCompleteToEvent measures, one upload at a time, the time from
// the enqueue at the end of complete to the arrival of the ready
// attachment event on a Redis bus subscriber (what a chat node pushes to
// the recipient's socket): worker pickup, streaming the original from
// versitygw, the pipeline, storing the variants, the Postgres update and the
// publish. It reports p50 and p99 over the run.
func BenchmarkCompleteToEvent(b *testing.B) {
	corpus := benchCorpus(b)
	for _, tc := range []struct {
		name, file, contentType string
		kind                    chatcore.AttachmentKind
	}{
		{"photo12mp", "photo12mp.jpg", "image/jpeg", chatcore.AttachImage},
		{"voice60s", "voice60s.m4a", "audio/mp4", chatcore.AttachVoice},
		{"video1080p", "video1080p.mp4", "video/mp4", chatcore.AttachVideo},
	} {
		b.Run(tc.name, func(b *testing.B) {
			data, err := os.ReadFile(filepath.Join(corpus, tc.file))
			if err != nil {
				b.Fatal(err)
			}
			e := newEnvWith(b, true)
			watch, bus := watchBus(b, e)
			cfg := e.config()
			cfg.Bus, cfg.Concurrency, cfg.PollInterval = bus, 0, 0 // production defaults
			e.start(b, cfg)
			enq := e.enqueuer(b, workers.EnqueueOptions{})
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				a := e.attach(b, tc.kind, tc.contentType, data)
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
		})
	}
}

// BenchmarkPhotoThroughput enqueues a burst of 12 MP photos and measures
// how many photos per second one or two worker Servers (default
// concurrency: one task per CPU each) turn ready.
func BenchmarkPhotoThroughput(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(benchCorpus(b), "photo12mp.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	for _, servers := range []int{1, 2} {
		b.Run(fmt.Sprintf("servers=%d", servers), func(b *testing.B) {
			e := newEnvWith(b, true)
			watch, bus := watchBus(b, e)
			cfg := e.config()
			cfg.Bus, cfg.Concurrency, cfg.PollInterval = bus, 0, 0 // production defaults
			for range servers {
				e.start(b, cfg)
			}
			enq := e.enqueuer(b, workers.EnqueueOptions{})
			b.StopTimer()
			var atts []*chatcore.Attachment
			var readies []chan time.Time
			for range b.N {
				a := e.attach(b, chatcore.AttachImage, "image/jpeg", data)
				atts = append(atts, a)
				readies = append(readies, watch.expect(a.ID))
			}
			b.StartTimer()
			start := time.Now()
			for _, a := range atts {
				if err := enq.EnqueueAttachment(e.ctx, a); err != nil {
					b.Fatal(err)
				}
			}
			for i, ch := range readies {
				select {
				case <-ch:
				case <-time.After(5 * time.Minute):
					b.Fatalf("no event for %s", atts[i].ID)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "photos/s")
		})
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op")
}
