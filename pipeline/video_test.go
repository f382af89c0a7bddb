package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"image/color"
	"testing"
	"time"
)

func TestVideoFormats(t *testing.T) {
	for _, tc := range []struct {
		file, ct, vcodec, acodec string
		width, height            int
		durationMS               int64
	}{
		{"video.mp4", TypeMP4, "h264", "aac", 640, 360, 3000},
		{"video.webm", TypeWebM, "vp9", "opus", 320, 240, 2000},
		{"video.3gp", Type3GPP, "h263", "aac", 176, 144, 2000},
		{"rotated.mov", TypeMOV, "hevc", "", 180, 640, 2000},
	} {
		t.Run(tc.file, func(t *testing.T) {
			for _, kind := range []Kind{KindAuto, KindVideo} {
				res := mustProcess(t, kind, corpus(t, tc.file), Limits{})
				if res.Kind != KindVideo || res.ContentType != tc.ct || res.VideoCodec != tc.vcodec || res.AudioCodec != tc.acodec {
					t.Errorf("got %s %s %s/%s, want video %s %s/%s", res.Kind, res.ContentType, res.VideoCodec, res.AudioCodec, tc.ct, tc.vcodec, tc.acodec)
				}
				if res.Width != tc.width || res.Height != tc.height {
					t.Errorf("displayed size %dx%d, want %dx%d", res.Width, res.Height, tc.width, tc.height)
				}
				if d := res.DurationMS - tc.durationMS; d > 50 || d < -50 {
					t.Errorf("duration %d ms, want %d", res.DurationMS, tc.durationMS)
				}
				if res.Blurhash == "" {
					t.Error("no blurhash")
				}
				o := output(t, res, "poster")
				readJPEG(t, o)
				if o.Width != tc.width || o.Height != tc.height {
					t.Errorf("poster %dx%d, want %dx%d", o.Width, o.Height, tc.width, tc.height)
				}
			}
		})
	}
}

// TestPosterRotated: rotated.mov stores a 640x180 frame, red left and blue
// right, with a display matrix that ffprobe reports as "rotation": 90 (90°
// counter-clockwise). Shown as players show it, it is 180x640, blue on top.
func TestPosterRotated(t *testing.T) {
	res := mustProcess(t, KindVideo, corpus(t, "rotated.mov"), Limits{})
	img := readJPEG(t, output(t, res, "poster"))
	if b := img.Bounds(); b.Dx() != 180 || b.Dy() != 640 {
		t.Fatalf("poster %v, want 180x640", b.Size())
	}
	if c := at(img, 0.5, 0.25); !near(c, blue, 40) {
		t.Errorf("poster top is %v, want blue", color.NRGBAModel.Convert(c))
	}
	if c := at(img, 0.5, 0.75); !near(c, red, 40) {
		t.Errorf("poster bottom is %v, want red", color.NRGBAModel.Convert(c))
	}
}

func TestVideoLargeFrameScaled(t *testing.T) {
	res := mustProcess(t, KindVideo, benchInput(t, "video1080p.mp4"), Limits{})
	if o := output(t, res, "poster"); o.Width != 1280 || o.Height != 720 {
		t.Errorf("poster %dx%d, want 1280x720", o.Width, o.Height)
	}
	if res.Width != 1920 || res.Height != 1080 || res.DurationMS != 5000 {
		t.Errorf("got %dx%d %d ms, want 1920x1080 5000 ms", res.Width, res.Height, res.DurationMS)
	}
}

func TestVideoRefused(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		kind       Kind
		lim        Limits
		want       error
	}{
		{"no video stream", "audio-only.mp4", KindVideo, Limits{}, ErrUnsupported},
		{"voice container as video", "voice.m4a", KindVideo, Limits{}, ErrUnsupported},
		{"too long", "video.mp4", KindVideo, Limits{MaxDuration: time.Second}, ErrTooLarge},
		{"too many pixels", "video.mp4", KindAuto, Limits{MaxPixels: 640*360 - 1}, ErrTooLarge},
		{"side too long", "rotated.mov", KindVideo, Limits{MaxSide: 600}, ErrTooLarge},
		{"image as video", "orient-1.jpg", KindVideo, Limits{}, ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Process(context.Background(), tc.kind, corpus(t, tc.file), dir, tc.lim)
			wantErr(t, err, tc.want)
			checkEmptyDir(t, dir)
		})
	}
}

func TestPosterAt(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{time.Hour, time.Second},
		{10 * time.Second, time.Second},
		{3 * time.Second, 300 * time.Millisecond},
		{0, 0},
	} {
		if got := posterAt(tc.d); got != tc.want {
			t.Errorf("posterAt(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestReadPPM(t *testing.T) {
	img, err := readPPM(bufio.NewReader(bytes.NewReader([]byte("P6\n# c\n2 1\n255\n\x01\x02\x03\x04\x05\x06"))), 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Pix; !bytes.Equal(got, []byte{1, 2, 3, 255, 4, 5, 6, 255}) {
		t.Errorf("pixels %v", got)
	}
	for _, bad := range []string{"", "P5\n1 1\n255\n\x00", "P6\n20 1\n255\n", "P6\n1 1\n65535\n\x00\x00", "P6\n1 1\n255\n", "P6\n9999999 1\n255\n"} {
		if _, err := readPPM(bufio.NewReader(bytes.NewReader([]byte(bad))), 10); err == nil {
			t.Errorf("readPPM(%q) succeeded", bad)
		}
	}
}
