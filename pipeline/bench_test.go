package pipeline

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/pipeline/internal/turbojpeg"
)

// Benchmarks per stage, on the generated benchmark inputs (12 MP JPEG, 60 s
// AAC voice note, 5 s 1080p H.264 video). docs/benchmarks.md quotes them:
//
//	go test -run '^$' -bench . -benchtime 10x ./pipeline

func readBench(b *testing.B, name string) []byte {
	b.Helper()
	data, err := os.ReadFile(benchInput(b, name))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func BenchmarkSniff(b *testing.B) {
	head := readBench(b, "voice60s.m4a")[:SniffLen]
	b.ResetTimer()
	for b.Loop() {
		Sniff(head)
	}
}

// BenchmarkImageDecode: 12 MP JPEG decoded by libjpeg-turbo at 3/8 scale
// (1512x1134), the smallest that still covers a 1280 px preview.
func BenchmarkImageDecode(b *testing.B) {
	data := readBench(b, "photo12mp.jpg")
	lim := Limits{}.withDefaults()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decodeJPEG(data, lim, PreviewSide, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageDecodeFull is the same JPEG decoded at full size, for
// comparison: what the reduced-scale IDCT saves.
func BenchmarkImageDecodeFull(b *testing.B) {
	data := readBench(b, "photo12mp.jpg")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := turbojpeg.Decode(data, turbojpeg.Scale{Num: 1, Denom: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func decodedPhoto(b *testing.B) *decoded {
	d, err := decodeJPEG(readBench(b, "photo12mp.jpg"), Limits{}.withDefaults(), PreviewSide, true)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkImageResize: 1512x1134 to the 1280x960 preview (CatmullRom).
func BenchmarkImageResize(b *testing.B) {
	d := decodedPhoto(b)
	for b.Loop() {
		resize(d.img, 1280, 960)
	}
}

// BenchmarkImageRender: resize, orient, thumbnail and blurhash.
func BenchmarkImageRender(b *testing.B) {
	d := decodedPhoto(b)
	for b.Loop() {
		if _, err := render(d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkImageEncode(b *testing.B) {
	r, err := render(decodedPhoto(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := turbojpeg.Encode(r.preview, JPEGQuality); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlurhash(b *testing.B) {
	r, err := render(decodedPhoto(b))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := blurhashOf(r.thumbnail); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcess runs Process in-process on each benchmark input.
func BenchmarkProcess(b *testing.B) {
	for _, tc := range []struct {
		kind Kind
		file string
	}{{KindImage, "photo12mp.jpg"}, {KindVoice, "voice60s.m4a"}, {KindVideo, "video1080p.mp4"}} {
		b.Run(string(tc.kind), func(b *testing.B) {
			src := benchInput(b, tc.file)
			out := b.TempDir()
			for b.Loop() {
				if _, err := Process(context.Background(), tc.kind, src, out, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVoiceEncode: 60 s of 48 kHz PCM through libopus into Ogg.
func BenchmarkVoiceEncode(b *testing.B) {
	var pcm bytes.Buffer
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-i", benchInput(b, "voice60s.m4a"),
		"-ac", "1", "-ar", "48000", "-f", "s16le", "pipe:1")
	cmd.Stdout = &pcm
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		if _, err := encodePCM(bytes.NewReader(pcm.Bytes()), &out, 1<<40); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVideoPoster: ffmpeg seeks to 1 s, scales to 1280x720, pipes PPM.
func BenchmarkVideoPoster(b *testing.B) {
	src := benchInput(b, "video1080p.mp4")
	lim := Limits{}.withDefaults()
	for b.Loop() {
		if _, err := extractFrame(context.Background(), src, posterAt(5*time.Second), lim); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVideoProbe: ffprobe, which the pipeline runs only for containers
// probeISO does not read (WebM, Matroska, Ogg, fragmented MP4).
func BenchmarkVideoProbe(b *testing.B) {
	src := benchInput(b, "video1080p.mp4")
	for b.Loop() {
		if _, err := runProbe(context.Background(), src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSideBySide times whole processes, start-up included, on the same
// input in the same run, alternating ours (the pipeline in a small binary,
// as `parley media process` runs it) with the tool a user would pick
// instead, and reports medians and their ratio. The machine is shared and
// noisy: quote the ratio. vipsthumbnail comes from libvips-tools, which
// the project does not need; without it the image case is skipped.
func BenchmarkSideBySide(b *testing.B) {
	requireTools(b)
	bin := filepath.Join(b.TempDir(), "mediaprocess")
	if out, err := exec.Command("go", "build", "-o", bin, "./internal/mediaprocess").CombinedOutput(); err != nil {
		b.Fatalf("build mediaprocess: %v\n%s", err, out)
	}
	out := b.TempDir()
	for _, tc := range []struct {
		name, file, kind string
		tool             func(src string) []string
	}{
		{"image", "photo12mp.jpg", "image", func(src string) []string {
			return []string{"vipsthumbnail", "-s", "1280", "-o", filepath.Join(out, "vips.jpg[Q=80]"), src}
		}},
		{"voice", "voice60s.m4a", "voice", func(src string) []string {
			return []string{"ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", src, "-c:a", "libopus", "-b:a", "24k", filepath.Join(out, "ffmpeg.ogg")}
		}},
		{"video", "video1080p.mp4", "video", func(src string) []string {
			// The same frame as ours: 10% of 5 s.
			return []string{"ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-ss", "0.5", "-i", src, "-frames:v", "1", filepath.Join(out, "ffmpeg.jpg")}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			src := benchInput(b, tc.file)
			tool := tc.tool(src)
			if _, err := exec.LookPath(tool[0]); err != nil {
				b.Skipf("%s not installed (apt-get install libvips-tools to compare)", tool[0])
			}
			ours := []string{bin, "-kind", tc.kind, "-out", out, src}
			var a, t, ratio, rssA, rssT []float64
			for b.Loop() {
				wa, ma := timeRun(b, ours)
				wt, mt := timeRun(b, tool)
				a, t, ratio = append(a, wa), append(t, wt), append(ratio, wa/wt)
				rssA, rssT = append(rssA, ma), append(rssT, mt)
			}
			b.ReportMetric(median(a), "ours-s")
			b.ReportMetric(median(t), "tool-s")
			b.ReportMetric(median(ratio), "ratio")
			b.ReportMetric(median(rssA), "ours-peak-MiB")
			b.ReportMetric(median(rssT), "tool-peak-MiB")
		})
	}
}

// timeRun runs argv and returns its wall seconds and peak RSS in MiB. The
// peak comes from GNU time (/usr/bin/time, Debian's "time" package) when it
// is installed, 0 otherwise: Linux's rusage of a child exec'd from this
// process reports at least this process's own peak, so it cannot be used.
func timeRun(b *testing.B, argv []string) (float64, float64) {
	var memFile string
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		memFile = filepath.Join(b.TempDir(), "rss")
		argv = append([]string{"/usr/bin/time", "-f", "%M", "-o", memFile}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v\n%s", argv, err, stderr.String())
	}
	wall := time.Since(start).Seconds()
	var rss float64
	if memFile != "" {
		if data, err := os.ReadFile(memFile); err == nil {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
			rss = kb / 1024
		}
	}
	return wall, rss
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// BenchmarkVideoProbeISO: the same facts from the moov box, in Go.
func BenchmarkVideoProbeISO(b *testing.B) {
	src := benchInput(b, "video1080p.mp4")
	for b.Loop() {
		if _, err := probeISO(src); err != nil {
			b.Fatal(err)
		}
	}
}
