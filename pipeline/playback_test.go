package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"image/color"
	"os"
	"os/exec"
	"testing"
	"time"
)

// topLevelBoxes lists the top-level box types of an ISO file in order.
func topLevelBoxes(tb testing.TB, path string) []string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var boxes []string
	for i := 0; i+8 <= len(data); {
		size := int(binary.BigEndian.Uint32(data[i:]))
		boxes = append(boxes, string(data[i+4:i+8]))
		if size == 1 && i+16 <= len(data) {
			size = int(binary.BigEndian.Uint64(data[i+8:]))
		}
		if size < 8 {
			break
		}
		i += size
	}
	return boxes
}

// checkFaststart fails unless moov comes before mdat.
func checkFaststart(tb testing.TB, path string) {
	tb.Helper()
	boxes := topLevelBoxes(tb, path)
	moov, mdat := -1, -1
	for i, b := range boxes {
		if b == "moov" && moov < 0 {
			moov = i
		}
		if b == "mdat" && mdat < 0 {
			mdat = i
		}
	}
	if moov < 0 || mdat < 0 || moov > mdat {
		tb.Errorf("%s: boxes %v, want moov before mdat", path, boxes)
	}
}

func TestPlayback(t *testing.T) {
	for _, tc := range []struct {
		file          string
		profile       string // of the playback output
		width, height int
		audio         bool
	}{
		{"rotated.mov", "High", 180, 640, false},              // HEVC in MOV, rotated 90°
		{"video.webm", "High", 320, 240, true},                // VP9 + Opus in WebM
		{"anamorphic.mp4", "High", 640, 360, true},            // HEVC, 16:9 pixels
		{"big-h264.mp4", "High", 1280, 720, false},            // H.264 over 1080p: transcoded
		{"video.3gp", "High", 176, 144, true},                 // H.263 + AAC in 3GP
		{"video.mp4", "Constrained Baseline", 640, 360, true}, // in bounds: remuxed
	} {
		t.Run(tc.file, func(t *testing.T) {
			outs, err := Playback(context.Background(), corpus(t, tc.file), t.TempDir(), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			o := outputOf(t, outs, OutputPlayback)
			if o.ContentType != TypeMP4 || o.Width != tc.width || o.Height != tc.height {
				t.Errorf("got %s %dx%d, want video/mp4 %dx%d", o.ContentType, o.Width, o.Height, tc.width, tc.height)
			}
			checkFaststart(t, o.Path)
			p, err := runProbe(context.Background(), o.Path)
			if err != nil {
				t.Fatal(err)
			}
			v := p.video()
			if v.CodecName != "h264" || v.Profile != tc.profile || v.Level > 41 || v.PixFmt != "yuv420p" {
				t.Errorf("video %s %s level %d %s, want h264 %s ≤ 41 yuv420p", v.CodecName, v.Profile, v.Level, v.PixFmt, tc.profile)
			}
			if n, d := v.sar(); n != d {
				t.Errorf("sample aspect ratio %s, want square pixels", v.SampleAspectRatio)
			}
			if r := v.rotation(); r != 0 {
				t.Errorf("rotation %d left for the player, want it applied", r)
			}
			a := p.audio()
			if tc.audio != (a != nil) {
				t.Fatalf("audio stream %v, want %v", a != nil, tc.audio)
			}
			if a != nil && (a.CodecName != "aac" || a.Profile != "LC") {
				t.Errorf("audio %s %s, want aac LC", a.CodecName, a.Profile)
			}
			if len(p.Streams) != 1+map[bool]int{true: 1}[tc.audio] {
				t.Errorf("%d streams, want video and audio only", len(p.Streams))
			}
		})
	}
}

// TestPlaybackRotatedPixels: rotated.mov is shown blue on top; the
// transcoded playback stores it that way, with no rotation left.
func TestPlaybackRotatedPixels(t *testing.T) {
	outs, err := Playback(context.Background(), corpus(t, "rotated.mov"), t.TempDir(), Limits{KeepMetadata: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 {
		t.Errorf("KeepMetadata: %d outputs, want playback only", len(outs))
	}
	o := outputOf(t, outs, OutputPlayback)
	out, err := exec.Command("ffmpeg", "-v", "error", "-noautorotate", "-i", o.Path, "-frames:v", "1",
		"-f", "image2pipe", "-c:v", "ppm", "pipe:1").Output()
	if err != nil {
		t.Fatal(err)
	}
	img, err := readPPM(bufio.NewReader(bytes.NewReader(out)), 4096)
	if err != nil {
		t.Fatal(err)
	}
	if c := at(img, 0.5, 0.25); !near(c, blue, 40) {
		t.Errorf("top is %v, want blue", color.NRGBAModel.Convert(c))
	}
}

// TestPosterAnamorphic: a frame stored 360x360 with 16:9 pixels is shown
// 640x360, in the result and in the poster.
func TestPosterAnamorphic(t *testing.T) {
	res := mustProcess(t, KindVideo, corpus(t, "anamorphic.mp4"), Limits{})
	if res.Width != 640 || res.Height != 360 {
		t.Errorf("displayed %dx%d, want 640x360", res.Width, res.Height)
	}
	if o := output(t, res, OutputPoster); o.Width != 640 || o.Height != 360 {
		t.Errorf("poster %dx%d, want 640x360", o.Width, o.Height)
	}
}

func TestPlaybackRefused(t *testing.T) {
	for _, tc := range []struct {
		file string
		lim  Limits
		want error
	}{
		{"voice.m4a", Limits{}, ErrUnsupported},
		{"truncated.jpg", Limits{}, ErrCorrupt},
		{"video.mp4", Limits{MaxDuration: time.Second}, ErrTooLarge},
	} {
		t.Run(tc.file, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Playback(context.Background(), corpus(t, tc.file), dir, tc.lim)
			wantErr(t, err, tc.want)
			checkEmptyDir(t, dir)
		})
	}
}
