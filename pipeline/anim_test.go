package pipeline

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// countFrames decodes a video with ffmpeg and counts its frames.
func countFrames(tb testing.TB, path string) int {
	tb.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).Output()
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		tb.Fatalf("ffprobe frames %q: %v", out, err)
	}
	return n
}

func TestAnimation(t *testing.T) {
	for _, tc := range []struct {
		file          string
		width, height int
		frames        int
		durationMS    int64
	}{
		{"anim.gif", 320, 240, 5, 1000},
		{"anim.webp", 160, 120, 5, 1000},
		{"alpha-anim.webp", 64, 48, 10, 1000},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := mustProcess(t, KindAuto, corpus(t, tc.file), Limits{})
			if res.Kind != KindImage || !res.Animated || res.FrameCount != tc.frames || res.DurationMS != tc.durationMS {
				t.Errorf("got %s animated=%v %d frames %d ms, want image animated %d frames %d ms",
					res.Kind, res.Animated, res.FrameCount, res.DurationMS, tc.frames, tc.durationMS)
			}
			if res.Width != tc.width || res.Height != tc.height || res.Blurhash == "" {
				t.Errorf("got %dx%d blurhash %q, want %dx%d and a blurhash", res.Width, res.Height, res.Blurhash, tc.width, tc.height)
			}
			poster := readJPEG(t, output(t, res, OutputPoster))
			if b := poster.Bounds(); b.Dx() != tc.width || b.Dy() != tc.height {
				t.Errorf("poster %v", b)
			}
			o := output(t, res, OutputAnimation)
			if o.ContentType != TypeMP4 || o.Width%2 != 0 || o.Height%2 != 0 {
				t.Errorf("animation %s %dx%d, want video/mp4 with even sides", o.ContentType, o.Width, o.Height)
			}
			checkFaststart(t, o.Path)
			p, err := runProbe(context.Background(), o.Path)
			if err != nil {
				t.Fatal(err)
			}
			v := p.video()
			if v == nil || v.CodecName != "h264" || v.PixFmt != "yuv420p" || p.audio() != nil {
				t.Fatalf("animation streams %+v, want one h264 yuv420p video, no audio", p.Streams)
			}
			if v.Width != o.Width || v.Height != o.Height {
				t.Errorf("animation is %dx%d, Output says %dx%d", v.Width, v.Height, o.Width, o.Height)
			}
			if d := p.duration(v).Milliseconds() - tc.durationMS; d < -100 || d > 100 {
				t.Errorf("animation lasts %v, want %d ms", p.duration(v), tc.durationMS)
			}
			if n := countFrames(t, o.Path); n < tc.frames {
				t.Errorf("animation has %d frames, want at least %d", n, tc.frames)
			}
		})
	}
}

// TestAnimationTransparentIsWhite: alpha-anim.webp is transparent but for a
// blue square moving along y=10..26: the first frame's corner is white.
func TestAnimationTransparentIsWhite(t *testing.T) {
	res := mustProcess(t, KindImage, corpus(t, "alpha-anim.webp"), Limits{})
	poster := readJPEG(t, output(t, res, OutputPoster))
	if c := at(poster, 0.9, 0.9); !near(c, white, 30) {
		t.Errorf("transparent corner is %v, want white", c)
	}
	if c := at(poster, 8.0/64, 18.0/48); !near(c, blue, 60) {
		t.Errorf("square is %v, want blue", c)
	}
}

// TestAnimationBombs: frame count and frames × canvas are refused before
// anything is decoded.
func TestAnimationBombs(t *testing.T) {
	for _, tc := range []struct {
		file string
		lim  Limits
	}{
		{"many-frames.gif", Limits{}},       // 1,001 frames
		{"canvas-bomb.gif", Limits{}},       // 21 × 25 MP
		{"anim.webp", Limits{MaxFrames: 4}}, // 5 frames
		{"anim.gif", Limits{MaxAnimationPixels: 320 * 240 * 4}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Process(context.Background(), KindImage, corpus(t, tc.file), dir, tc.lim)
			wantErr(t, err, ErrTooLarge)
			checkEmptyDir(t, dir)
		})
	}
}

func TestGIFAnimInfoHostile(t *testing.T) {
	data, err := os.ReadFile(corpus(t, "anim.gif"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(data); n += max(1, len(data)/200) {
		gifAnimInfo(data[:n]) // must not panic on any truncation
		webpAnimFrames(data[:n], 10)
	}
}
