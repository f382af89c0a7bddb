package pipeline

import (
	"context"
	"os"
	"testing"
)

// TestProbeISOMatchesFFprobe: the Go moov reader must agree with ffprobe on
// everything the pipeline reads.
func TestProbeISOMatchesFFprobe(t *testing.T) {
	for _, f := range []string{"video.mp4", "rotated.mov", "video.3gp", "voice.m4a", "voice.3gp", "audio-only.mp4"} {
		t.Run(f, func(t *testing.T) {
			src := corpus(t, f)
			got, err := probeISO(src)
			if err != nil {
				t.Fatalf("probeISO: %v", err)
			}
			want, err := runProbe(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			compareProbes(t, got, want)
		})
	}
}

func compareProbes(t *testing.T, got, want *probe) {
	t.Helper()
	gv, wv := got.video(), want.video()
	if (gv == nil) != (wv == nil) {
		t.Fatalf("video stream: got %v, ffprobe %v", gv, wv)
	}
	if gv != nil && (gv.CodecName != wv.CodecName || gv.Width != wv.Width || gv.Height != wv.Height || gv.rotation()%180 != wv.rotation()%180) {
		t.Errorf("video: got %s %dx%d rot %d, ffprobe %s %dx%d rot %d", gv.CodecName, gv.Width, gv.Height, gv.rotation(), wv.CodecName, wv.Width, wv.Height, wv.rotation())
	}
	ga, wa := got.audio(), want.audio()
	if (ga == nil) != (wa == nil) || (ga != nil && ga.CodecName != wa.CodecName) {
		t.Errorf("audio: got %+v, ffprobe %+v", ga, wa)
	}
	if d := got.duration(gv) - want.duration(wv); d > 50e6 || d < -50e6 {
		t.Errorf("duration: got %v, ffprobe %v", got.duration(gv), want.duration(wv))
	}
}

func TestProbeISORefuses(t *testing.T) {
	for _, f := range []string{"video.webm", "voice.ogg", "silence.m4a", "empty.bin", "orient-1.jpg"} {
		if _, err := probeISO(corpus(t, f)); err == nil {
			t.Errorf("probeISO(%s) succeeded; want ffprobe to handle it", f)
		}
	}
}

// FuzzProbeISO: the moov reader must not panic or allocate wildly on any
// input.
func FuzzProbeISO(f *testing.F) {
	for _, s := range []string{"testdata/seed/upright.heic"} {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("\x00\x00\x00\x10ftypisom\x00\x00\x00\x00\x00\x00\x00\x10moov\x00\x00\x00\x08mvhd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := t.TempDir() + "/in.mp4"
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := probeISO(path)
		if err == nil && (len(p.Streams) == 0 || p.duration(nil) <= 0) {
			t.Fatalf("accepted a probe with no streams or duration: %+v", p)
		}
	})
}
