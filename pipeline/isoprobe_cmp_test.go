package pipeline

import (
	"context"
	"testing"
)

// TestProbeISOMatchesFFprobe: what Playback reads from probeISO (codec,
// H.264 profile, level and pixel format, AAC profile, pixel aspect ratio)
// is what ffprobe says.
func TestProbeISOPlaybackFields(t *testing.T) {
	for _, f := range []string{"video.mp4", "anamorphic.mp4", "big-h264.mp4", "location.mov", "video.3gp", "voice.m4a"} {
		t.Run(f, func(t *testing.T) {
			src := corpus(t, f)
			iso, err := probeISO(src)
			if err != nil {
				t.Fatal(err)
			}
			ff, err := runProbe(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			for _, ffs := range ff.Streams {
				var is *probeStream
				for i := range iso.Streams {
					if iso.Streams[i].CodecType == ffs.CodecType {
						is = &iso.Streams[i]
					}
				}
				if is == nil {
					t.Fatalf("probeISO has no %s stream", ffs.CodecType)
				}
				if is.CodecName != ffs.CodecName {
					t.Errorf("%s codec %q, ffprobe %q", ffs.CodecType, is.CodecName, ffs.CodecName)
				}
				if ffs.CodecName == "h264" && (is.Profile != ffs.Profile || is.Level != ffs.Level || is.PixFmt != ffs.PixFmt) {
					t.Errorf("h264 %s/%d/%s, ffprobe %s/%d/%s", is.Profile, is.Level, is.PixFmt, ffs.Profile, ffs.Level, ffs.PixFmt)
				}
				if ffs.CodecName == "aac" && is.Profile != ffs.Profile {
					t.Errorf("aac profile %q, ffprobe %q", is.Profile, ffs.Profile)
				}
				if ffs.CodecType == "video" {
					in, id := is.sar()
					fn, fd := ffs.sar()
					if in*fd != fn*id {
						t.Errorf("sar %s, ffprobe %s", is.SampleAspectRatio, ffs.SampleAspectRatio)
					}
				}
			}
		})
	}
}
